// swift-tools-version:6.2
import PackageDescription

// Code generation for the core's SIMD kernels (README.md, "Building"). On x86-64 the core is
// compiled for the x86-64-v3 level (AVX2 and FMA: Intel since 2013, AMD since 2015), in every
// configuration; on arm64, NEON and FMA are the baseline and need no flag. DIGITS_PORTABLE=1 in
// the environment builds for any x86-64 instead, without fused multiply-add (slower).
//
// Debug builds (what `swift test` builds) optimise the core too: unoptimised, its SIMD code goes
// through generic library code and the test suite is several times slower (BENCHMARKS.md).
// DIGITS_DEBUG_ONONE=1 leaves the core unoptimised in debug builds, for stepping through it in
// a debugger.
//
// Tools version 6.2 or later is what lets another package depend on a package with such flags.
let simdSettings: [SwiftSetting] = {
    var settings: [SwiftSetting] = []
    #if arch(x86_64)
    if Context.environment["DIGITS_PORTABLE"] != nil {
        settings.append(.define("DIGITS_NO_FMA"))
    } else {
        settings.append(.unsafeFlags(["-Xcc", "-march=x86-64-v3"]))
    }
    #endif
    if Context.environment["DIGITS_DEBUG_ONONE"] == nil {
        settings.append(.unsafeFlags(["-O"], .when(configuration: .debug)))
    }
    return settings
}()

// The AVX-512 kernels (Sources/DigitsAVX512Kernels) are the one module compiled for x86-64-v4;
// DigitsAVX512 calls them only where cpuid finds AVX-512. Not built for other processors or with
// DIGITS_PORTABLE=1.
let avx512Kernels: (define: [SwiftSetting], compile: [SwiftSetting]) = {
    #if arch(x86_64)
    if Context.environment["DIGITS_PORTABLE"] == nil {
        let define: [SwiftSetting] = [.define("DIGITS_AVX512_KERNELS")]
        return (define, define + [.unsafeFlags(["-Xcc", "-march=x86-64-v4"]), .unsafeFlags(["-O"], .when(configuration: .debug))])
    }
    #endif
    return ([], [])
}()

let package = Package(
    name: "Digits",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DigitsCore", targets: ["DigitsCore"]),
        // `AVX512.install()`: the AVX-512 multiply for a program that uses DigitsCore (same results).
        .library(name: "DigitsAVX512", targets: ["DigitsAVX512"]),
        .library(name: "DigitsModelFile", targets: ["DigitsModelFile"]),
        .library(name: "DigitsData", targets: ["DigitsData"]),
        .library(name: "DigitsVision", targets: ["DigitsVision"]),
        .library(name: "DigitsApp", targets: ["DigitsApp"]),
        .executable(name: "digits", targets: ["digits"]),
    ],
    traits: [
        // `swift build --traits OpenBLAS`: adds BLASGEMM, a kernel over the system's OpenBLAS, to
        // cross-check the SIMD kernel's speed and results. The default build needs no BLAS.
        .trait(name: "OpenBLAS", description: "An OpenBLAS-backed GEMM kernel (needs libopenblas-dev)"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation --target DigitsCore`: the DocC catalog (README.md).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The neural-network core: tensors, kernels, layers, losses, optimisers, training.
        // Knows nothing of MNIST or files; imports only the Swift standard library (and, natively,
        // the C library and Synchronization for threads), so it also builds with Embedded Swift
        // for WebAssembly (scripts/check-embedded.sh).
        .target(
            name: "DigitsCore",
            swiftSettings: simdSettings
        ),

        // BLASGEMM, a GEMM kernel over the system's OpenBLAS, to cross-check the SIMD kernel's speed
        // and results (`digits bench`); empty unless built with the OpenBLAS trait.
        .target(
            name: "DigitsBLAS",
            dependencies: ["DigitsCore", .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"]))]
        ),

        // The AVX-512 matrix-multiply kernel, in Swift, compiled for x86-64-v4 (above); it imports
        // only the standard library. CDigitsAVX512 is the cpuid check Swift cannot make.
        .target(name: "DigitsAVX512Kernels", swiftSettings: avx512Kernels.compile),
        .target(name: "CDigitsAVX512"),
        // Hands the AVX-512 kernel to DigitsCore (`AVX512.install()`) where the processor has it:
        // one x86-64-v3 binary runs everywhere. The core imports only the standard library and
        // cannot hold it.
        .target(name: "DigitsAVX512", dependencies: ["DigitsCore", "CDigitsAVX512", "DigitsAVX512Kernels"],
                swiftSettings: avx512Kernels.define),

        // Model files: safetensors reading and writing, the architecture as JSON, atomic writes.
        .target(name: "DigitsModelFile", dependencies: ["DigitsCore"]),

        // The system OpenBLAS, only with the OpenBLAS trait.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),

        // The system zlib, for reading .gz files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        // Data: IDX and CSV readers, gzip, the bundled MNIST copy.
        .target(
            name: "DigitsData",
            dependencies: ["CZlib"],
            resources: [.copy("Resources/mnist")]
        ),

        // What the command-line tool does, as a library: presets, training sessions, reports,
        // reading photographed digits.
        .target(
            name: "DigitsApp",
            dependencies: ["DigitsCore", "DigitsModelFile", "DigitsData", "DigitsVision", "DigitsBLAS"],
            // The shipped reader (issue 14), its card and the font check pictures.
            resources: [.copy("Resources/reader")]
        ),

        // The `digits` command: a thin layer of argument parsing over DigitsApp.
        .executableTarget(
            name: "digits",
            dependencies: [
                "DigitsApp", "DigitsCore", "DigitsData", "DigitsVision", "DigitsServer",
                "DigitsModelFile",  // `digits web` writes presets' architectures as model files do
                "DigitsAVX512",     // installed at start-up where the processor has AVX-512
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // A small C shim over the system's libpng, libjpeg(-turbo) and zlib; their setjmp/longjmp
        // error handling stays inside it.
        .target(
            name: "CImageIO",
            linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg"), .linkedLibrary("z")]
        ),

        // Images and pictures: reading photos, MNIST-style digit preparation, grids, plots,
        // confusion matrices, synthetic handwriting. Knows nothing of the network.
        .target(name: "DigitsVision", dependencies: ["CImageIO"]),

        // Digits Studio: the web server of `digits serve` (Hummingbird) and its page, served from Resources/.
        .target(
            name: "DigitsServer",
            dependencies: [
                "DigitsApp", "DigitsCore", "DigitsData", "DigitsVision",
                "DigitsModelFile",  // the model in use as a file, for the page's WebAssembly module
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/site")]
        ),

        .testTarget(name: "DigitsVisionTests", dependencies: ["DigitsVision"]),
        .testTarget(name: "DigitsCoreTests", dependencies: ["DigitsCore", "DigitsModelFile", "DigitsBLAS", "DigitsAVX512"]),
        .testTarget(name: "DigitsModelFileTests", dependencies: ["DigitsModelFile", "DigitsCore"]),
        .testTarget(name: "DigitsDataTests", dependencies: ["DigitsData"]),
        // The app tests also run the built `digits` executable, so they depend on it.
        // Fixtures/ holds a trained model, read from the source tree.
        .testTarget(name: "DigitsAppTests", dependencies: ["DigitsApp", "DigitsCore", "DigitsData", "DigitsVision", "digits"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "DigitsServerTests", dependencies: [
            "DigitsServer", "DigitsApp", "DigitsCore", "DigitsData", "DigitsVision",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
