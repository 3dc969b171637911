#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CDigitsAVX512
import DigitsAVX512Kernels
import DigitsCore

/// The AVX-512 kernels, chosen at run time: `install()` hands them to the core when the processor
/// has AVX-512 (checked with cpuid), so one binary, built for x86-64-v3, runs everywhere and
/// uses the wider registers where they exist.
///
/// The kernel (`avx512WideTiles`, Swift in DigitsAVX512Kernels, the one module compiled for
/// x86-64-v4) computes a 6 × 64 tile of C in 24 of the 32 zmm registers, four of the core's 6 × 16 tiles at once. Each value of C is the
/// same chain of fused multiply-adds as in the core's 8-lane micro-kernel, in the same order,
/// so results are bit-identical with and without it (tests check this), on any machine. The
/// same holds for the loops of a one-channel convolution's direct kernels
/// (`avx512OneChannelProducts`, `avx512OneChannelGradientSums`): 16-lane registers, each lane
/// the core's chain.
public enum AVX512 {
    /// Whether this processor (and its operating system) can run the AVX-512 kernels.
    public static var isAvailable: Bool {
        #if DIGITS_AVX512_KERNELS
        digits_avx512_available() != 0
        #else
        false   // a build without the kernels (not x86-64, or DIGITS_PORTABLE=1)
        #endif
    }

    /// Whether the AVX-512 kernels are in use (after `install()`).
    public static var isInstalled: Bool { SIMDGEMM.defaultWideTiles != nil }

    /// The wide-tile kernel, when this processor can run it.
    public static var wideTiles: WideTileKernel? {
        #if DIGITS_AVX512_KERNELS
        isAvailable ? avx512WideTiles : nil
        #else
        nil
        #endif
    }

    /// Makes the core's matrix multiply and new `Conv2D` layers' one-channel direct kernels use
    /// the AVX-512 loops, and `FMAPeak` measure at their width, when the processor has AVX-512,
    /// the build fuses multiply-adds (the kernels' arithmetic) and `DIGITS_AVX512` is not `0`. Call once at start-up, before any training;
    /// a `GEMM.kernel` already made is replaced by the same kernel with the wide tiles.
    /// - Returns: whether they are in use.
    @discardableResult
    public static func install() -> Bool {
        if let text = getenv("DIGITS_AVX512"), String(cString: text) == "0" { return false }
        guard SIMDGEMM.fusesMultiplyAdd, let kernel = wideTiles else { return false }
        SIMDGEMM.defaultWideTiles = kernel
        #if DIGITS_AVX512_KERNELS
        FMAPeak.wideLoop = avx512FMALoop
        #endif
        if let convolution = oneChannelKernels {
            Conv2D.defaultWideProducts = convolution.products
            Conv2D.defaultWideGradientSums = convolution.gradientSums
        }
        FMAPeak.wideLanes = 16
        // A kernel already made is replaced; otherwise `GEMM.kernel` is left unmade (asking for it
        // would make it, and measure whether two threads pay, in every command, even `--help`):
        // when it is made, it takes `defaultWideTiles`.
        if SIMDGEMM.hasMadeAutomaticKernel, let current = GEMM.kernel as? SIMDGEMM, current.wideTiles == nil {
            GEMM.kernel = SIMDGEMM(threads: current.threads, minFlopsPerThread: current.minFlopsPerThread)
        }
        return true
    }
}

extension AVX512 {
    /// The one-channel convolution kernels (`OneChannelProductsKernel`, `OneChannelGradientKernel`),
    /// when this processor can run them.
    public static var oneChannelKernels: (products: OneChannelProductsKernel, gradientSums: OneChannelGradientKernel)? {
        #if DIGITS_AVX512_KERNELS
        isAvailable ? (avx512OneChannelProducts, avx512OneChannelGradientSums) : nil
        #else
        nil
        #endif
    }
}
