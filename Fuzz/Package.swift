// swift-tools-version:6.2
import PackageDescription

// libFuzzer targets for the parsers of untrusted input: a package of its own that depends on the
// root package by path, so the main build and `swift test` never see the sanitizers.
// Build and run them with `scripts/fuzz.sh` (Fuzz/README.md): it builds with
// `--sanitize fuzzer -Xswiftc -sanitize=fuzzer,address`, since this toolchain's driver keeps only
// the last of several `-sanitize=` flags, so `--sanitize fuzzer --sanitize address` loses one.
//
// Each target is one thin file that hands libFuzzer's bytes to a public entry point.
let package = Package(
    name: "DigitsFuzz",
    dependencies: [
        .package(name: "Digits", path: ".."),
    ],
    targets: [
        // What every target shares: a scratch file for readers that take a path, the verbose switch.
        .target(name: "FuzzSupport"),

        // IDX images and labels, raw or gzip (DigitsData), and zlib/gzip inflation on its own.
        .executableTarget(name: "FuzzIDX", dependencies: ["FuzzSupport", .product(name: "DigitsData", package: "Digits")]),
        // Kaggle-style MNIST CSV (DigitsData).
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "DigitsData", package: "Digits")]),
        // A model file from its bytes: safetensors header, the architecture in its metadata, the weights.
        .executableTarget(name: "FuzzModel", dependencies: ["FuzzSupport", .product(name: "DigitsCore", package: "Digits"), .product(name: "DigitsModelFile", package: "Digits")]),
        // PNG and JPEG decoding (DigitsVision over CImageIO), then the MNIST-style preparation.
        .executableTarget(name: "FuzzImage", dependencies: ["FuzzSupport", .product(name: "DigitsVision", package: "Digits")]),
        // The MNIST-style preparation on raw pixels of any size and channel count.
        .executableTarget(name: "FuzzPrepare", dependencies: ["FuzzSupport", .product(name: "DigitsVision", package: "Digits")]),

        // The server's request bodies (Sources/DigitsServer/RequestDecoding.swift and Names.swift, linked
        // into Sources/FuzzRequest so that the HTTP server is not built with the sanitizers).
        .executableTarget(name: "FuzzRequest", dependencies: ["FuzzSupport", .product(name: "DigitsVision", package: "Digits")]),
    ],
    swiftLanguageModes: [.v6]
)
