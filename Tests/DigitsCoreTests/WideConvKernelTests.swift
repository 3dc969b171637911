@testable import DigitsCore
import DigitsAVX512
import Testing

/// The wider loops of a one-channel convolution's direct kernels (`OneChannelProductsKernel`,
/// `OneChannelGradientKernel`): a `Conv2D` with them gives the same bits as with its own 8-lane
/// loops, forward and backward. Where the processor lacks AVX-512, the layer's wide path is still
/// run, with the plain references as its kernels.
@Suite struct WideConvKernelTests {
    /// The kernels to try: the plain references, and AVX-512 when this machine has it.
    static let kernels: [(String, OneChannelProductsKernel, OneChannelGradientKernel)] = {
        var list = [("reference", referenceOneChannelProducts, referenceOneChannelGradientSums)]
        if let avx512 = AVX512.oneChannelKernels { list.append(("avx512", avx512.products, avx512.gradientSums)) }
        return list
    }()

    /// One forward (ReLU, and pooled when asked) and backward of a one-channel layer: y, dW, db.
    static func run(k: Int, padding: Int, outC: Int, size: Int, pool: Bool,
                    kernels: (OneChannelProductsKernel, OneChannelGradientKernel)?, threads: Int = 1) -> [[Float]] {
        var rng = RandomSource(seed: 31)
        let x = randomTensor([7, 1, size, size], &rng)
        var init_ = RandomSource(seed: 2)
        let conv = Conv2D(1, outC, kernelSize: k, padding: padding, biasInitializer: .uniform(low: -0.5, high: 0.5),
                          rng: &init_)
        conv.wideProducts = kernels?.0
        conv.wideGradientSums = kernels?.1
        conv.chunkValues = 3_000                        // several chunks a slice
        let pooling = pool ? MaxPool2D(kernelSize: 2, stride: 2) : nil
        return Parallel.$threadCount.withValue(threads) {
            let y = conv.forward(x, training: true, then: .relu, pool: pooling)
            let dy = randomTensor(y.shape, &rng)
            _ = conv.backward(dy, through: .relu, pool: pooling)
            return [y.array, conv.weight.grad.array, conv.bias!.grad.array]
        }
    }

    /// Shapes: kernels 3-11 (k = 6 and 11 run the gradient's one-row variants after five rows),
    /// 1-20 channels (groups of eight, four and one in the forward; one and two pairs, and a last
    /// channel repeated, in the gradient), outputs narrower than 8 and past a multiple of 8
    /// (the gradient's tail columns), an odd multiple of 16 positions (the forward's last 16),
    /// pooled and not. Products too small for the direct forward (fewer than three channels,
    /// or `GEMMPlan.isSmall`) go through the multiply on both sides, which checks the gradient alone.
    // A portable build (DIGITS_NO_FMA) multiplies and adds separately, unlike the wide loops.
    @Test("a one-channel Conv2D gives the same bits with the wide loops as with its 8-lane ones, on 1-3 threads",
          .enabled(if: SIMDGEMM.fusesMultiplyAdd),
          arguments: [(5, 0, 16, 28, true), (5, 2, 7, 12, false), (3, 1, 13, 12, true), (7, 3, 5, 9, false),
                      (4, 0, 3, 20, false), (5, 0, 1, 28, false), (3, 0, 2, 6, false), (5, 1, 20, 17, false),
                      (6, 0, 16, 28, false), (3, 0, 3, 40, true), (6, 2, 11, 23, true), (11, 5, 9, 19, false)])
    func sameBits(shape: (k: Int, padding: Int, outC: Int, size: Int, pool: Bool)) {
        let plain = Self.run(k: shape.k, padding: shape.padding, outC: shape.outC, size: shape.size, pool: shape.pool,
                             kernels: nil)
        #expect(!plain[1].allSatisfy { $0 == 0 })
        for (name, products, gradientSums) in Self.kernels {
            for threads in [1, 2, 3] {
                let wide = Self.run(k: shape.k, padding: shape.padding, outC: shape.outC, size: shape.size,
                                    pool: shape.pool, kernels: (products, gradientSums), threads: threads)
                for (part, label) in ["y", "dW", "db"].enumerated() {
                    #expect(wide[part].map(\.bitPattern) == plain[part].map(\.bitPattern),
                            "\(name) on \(threads) threads, k \(shape.k) padding \(shape.padding) outC \(shape.outC): \(label) differs")
                }
            }
        }
    }

    @Test("wide kernels that are off change y and dW: the wide paths are taken")
    func wrongKernelIsSeen() {
        let nudged: OneChannelProductsKernel = { image, rowStride, k, w, channels, positions, out in
            referenceOneChannelProducts(image, rowStride, k, w, channels, positions, out)
            out[0] += 1
        }
        let nudgedSums: OneChannelGradientKernel = {
            images, imageStride, rowStride, a, b, c, d, pairs, count, sampleStride, rows, dzRowStride, vectorW, tail,
            height, sums in
            referenceOneChannelGradientSums(images, imageStride, rowStride, a, b, c, d, pairs, count, sampleStride, rows,
                                            dzRowStride, vectorW, tail, height, sums)
            sums[0] += 1
        }
        let plain = Self.run(k: 5, padding: 0, outC: 16, size: 28, pool: false, kernels: nil)
        let wrong = Self.run(k: 5, padding: 0, outC: 16, size: 28, pool: false, kernels: (nudged, nudgedSums))
        #expect(wrong[0] != plain[0])
        #expect(wrong[1] != plain[1])
    }
}
