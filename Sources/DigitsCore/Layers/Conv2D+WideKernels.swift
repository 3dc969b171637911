// MARK: - Wider kernels for a one-channel layer (injected from outside the core)

/// The products of a one-channel, stride-1 convolution over a padded image's flat positions,
/// the inner loop of `Conv2D`'s direct forward:
///
///     out[o · positions + t] = Σ over q = ky·k + kx, in order, of w[o · k·k + q] · image[t + ky·rowStride + kx]
///
/// for every channel o < `channels` and position t < `positions` (a multiple of 16), each sum
/// the chain acc = fma(w, image, acc) from zero, q in order, as the core's own loop sums it:
/// then the bits are the same with or without it, on any machine, in a build that fuses
/// multiply-adds (`SIMDGEMM.fusesMultiplyAdd`; DigitsAVX512 installs no kernel in the others).
///
/// Parameters, in order: the padded image, its row stride, the kernel size k, the weights
/// (channels, k·k), the channel count, the positions, where to write (channels, positions).
public typealias OneChannelProductsKernel = @convention(c) (
    _ image: UnsafePointer<Float>, _ rowStride: Int, _ kernelSize: Int,
    _ weights: UnsafePointer<Float>, _ channels: Int, _ positions: Int,
    _ out: UnsafeMutablePointer<Float>
) -> Void

/// The lane-wise sums of a one-channel, stride-1 convolution's weight gradient, the inner loop
/// of `Conv2D`'s direct weight gradient: for up to four channels (two pairs) and `height`
/// (1-5) kernel rows of one kernel column,
///
///     sums[(c · 5 + i) · 8 + j] = Σ over samples b, rows oy, and x < vectorW with x % 8 = j
///                                 of dz_c[b·sampleStride + oy·dzRowStride + x] · images[b·imageStride + (oy + i)·rowStride + x]
///
/// with c = 0, 1 the first pair's channels (`dzA`, `dzB`) and c = 2, 3 the second's (`dzC`,
/// `dzD`, only when `pairs` is 2), `images` already at the kernel column and first row; and,
/// when `tail` (0-7) is not 0, after each row's x < vectorW one more term at
/// x = vectorW + tail − 8 + j, its dz read as 0 in the lanes j < 8 − tail (columns already
/// summed): the row's last `tail` columns, in the lanes j ≥ 8 − tail. Each
/// lane's sum is the chain acc = fma(dz, image, acc) from zero over b, oy and x in order, as
/// the core's 8-lane loop sums it, so the lanes (and their sums across, which the core adds)
/// are the same bits with or without it.
public typealias OneChannelGradientKernel = @convention(c) (
    _ images: UnsafePointer<Float>, _ imageStride: Int, _ rowStride: Int,
    _ dzA: UnsafePointer<Float>, _ dzB: UnsafePointer<Float>, _ dzC: UnsafePointer<Float>, _ dzD: UnsafePointer<Float>,
    _ pairs: Int, _ count: Int, _ sampleStride: Int, _ rows: Int, _ dzRowStride: Int, _ vectorW: Int,
    _ tail: Int, _ height: Int, _ sums: UnsafeMutablePointer<Float>
) -> Void

extension Conv2D {
    /// The products kernel new layers' direct forward uses instead of its own 8-lane loop
    /// (`wideProducts`), or nil. Set once at start-up, before any layer is made, by the program's
    /// edge (DigitsAVX512), as `SIMDGEMM.defaultWideTiles` is.
    nonisolated(unsafe) public static var defaultWideProducts: OneChannelProductsKernel?

    /// The weight-gradient kernel new layers' direct weight gradient uses instead of its own
    /// 8-lane loop (`wideGradientSums`), or nil. Set once at start-up, as `defaultWideProducts` is.
    nonisolated(unsafe) public static var defaultWideGradientSums: OneChannelGradientKernel?
}
