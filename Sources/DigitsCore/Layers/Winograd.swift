/// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2015): a 3×3 convolution, stride 1,
/// computed on 2×2 tiles of output from 4×4 tiles of input with 16 multiplies per tile and
/// channel pair instead of 36.
///
/// For one output tile Y (2×2), its input tile d (4×4, zeros outside the padded input) and a
/// kernel g (3×3):
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
///          ⎡1  0 −1  0⎤        ⎡1    0    0 ⎤        ⎡1  1  1  0⎤
///     Bᵀ = ⎢0  1  1  0⎥    G = ⎢½    ½    ½ ⎥   Aᵀ = ⎣0  1 −1 −1⎦
///          ⎢0 −1  1  0⎥        ⎢½   −½    ½ ⎥
///          ⎣0  1  0 −1⎦        ⎣0    0    1 ⎦
///
/// Summed over input channels, each of the 16 positions ξ of the transformed tiles is a matrix
/// product, and all of them go through `GEMM.multiply`:
///
///     M[ξ] (outC, tiles) = U[ξ] (outC, inC) · V[ξ] (inC, tiles),   U = G g Gᵀ,  V = Bᵀ d B
///
/// Back-propagation uses the same pieces. The input gradient of a stride-1 convolution is a
/// convolution of dY, padded by 2 − padding, with every kernel turned by 180° and the channels
/// swapped: `convolve` again, with `transformWeights(flipped: true)`. The weight gradient, from
/// Y's formula: dM = A dY Aᵀ (`transformOutputGradient`), dU[ξ] = dM[ξ] · V[ξ]ᵀ summed over
/// tiles, and dW = Gᵀ dU G (`weightGradient(from:)`).
///
/// The transforms add and subtract (and halve) where the direct sum multiplies, so the results
/// are the direct convolution's up to rounding, not its bits (`ReferenceConv2D` is the
/// reference; the tests check them close). Every sum is in a fixed order: any thread count
/// gives the same bits.
///
/// Layout: a transformed matrix for ξ is `rows` rows of `ld` values, ξ after ξ, 16·rows·ld
/// values in all; a tile of sample s at tile row ty and column tx is column
/// s·tilesPerSample + ty·tilesW + tx. `ld` is the columns the products compute (the tiles'
/// count rounded up to 16, `Tiles.columnsComputed`) and 8 more: the transforms write eight
/// tiles at a time, and the lanes past a row's last tile land in columns written again after
/// (or in that slack).
enum Winograd {
    /// The tiles of one output plane of `height` × `width`.
    struct Tiles {
        let height: Int, width: Int
        /// Tile rows and columns: the output rounded up to whole 2×2 tiles.
        var rows: Int { (height + 1) / 2 }
        var columns: Int { (width + 1) / 2 }
        var perSample: Int { rows * columns }
        /// The padded input plane the tiles read: (2·rows + 2) rows of `paddedWidth`, the plane at
        /// (padding, padding) inside zeros, with room past each row for eight tiles' 16-wide loads.
        var paddedWidth: Int { 2 * columns + 16 }
        var paddedSize: Int { (2 * rows + 2) * paddedWidth }
        /// Columns of a transformed matrix the products compute for `count` samples' tiles: their
        /// number rounded up to whole 16-wide register tiles (the columns past the last tile
        /// computed and never read), which is faster than an edge tile.
        func columnsComputed(count: Int) -> Int { (count * perSample + 15) / 16 * 16 }
        /// Columns of a transformed matrix holding `count` samples' tiles, with the slack.
        func ld(count: Int) -> Int { columnsComputed(count: count) + 8 }
    }

    // MARK: - Weights

    /// U[ξ] = (G g Gᵀ)[ξ] for every kernel of w (outC, inC, 3, 3), into u (16, outC, inC); with
    /// `flipped`, the input gradient's kernels: u (16, inC, outC), kernel (c, o) = W[o, c] turned
    /// by 180°.
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, flipped: Bool,
                                 into u: UnsafeMutablePointer<Float>) {
        let pairs = outChannels * inChannels
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let g = w + (o * inChannels + c) * 9
                // Value (row, column) of the kernel, turned by 180° when flipped.
                @inline(__always) func k(_ row: Int, _ col: Int) -> Float { flipped ? g[8 - 3 * row - col] : g[3 * row + col] }
                let at = flipped ? c * outChannels + o : o * inChannels + c
                // Row i of G g is (a, b, e) below; row i of (G g) Gᵀ is G times it.
                @inline(__always) func row(_ i: Int, _ a: Float, _ b: Float, _ e: Float) {
                    u[(4 * i) * pairs + at] = a
                    u[(4 * i + 1) * pairs + at] = 0.5 * (a + b + e)
                    u[(4 * i + 2) * pairs + at] = 0.5 * (a - b + e)
                    u[(4 * i + 3) * pairs + at] = e
                }
                @inline(__always) func gRow(_ i: Int, _ col: Int) -> Float {
                    let a = k(0, col), b = k(1, col), e = k(2, col)
                    switch i {
                    case 0: return a
                    case 1: return 0.5 * (a + b + e)
                    case 2: return 0.5 * (a - b + e)
                    default: return e
                    }
                }
                for i in 0..<4 { row(i, gRow(i, 0), gRow(i, 1), gRow(i, 2)) }
            }
        }
    }

    /// dW (outC, inC, 3, 3) += Gᵀ dU G for every kernel, dU given transposed: (16, inC, outC).
    static func weightGradient(from dUT: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                               into dW: UnsafeMutablePointer<Float>) {
        let pairs = outChannels * inChannels
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let at = c * outChannels + o
                @inline(__always) func x(_ ξ: Int) -> Float { dUT[ξ * pairs + at] }
                // Row r of Gᵀ X (X the 4×4 dU of (o, c)) at column col.
                @inline(__always) func t(_ r: Int, _ col: Int) -> Float {
                    let x0 = x(col), x1 = x(4 + col), x2 = x(8 + col), x3 = x(12 + col)
                    switch r {
                    case 0: return x0 + 0.5 * (x1 + x2)
                    case 1: return 0.5 * (x1 - x2)
                    default: return 0.5 * (x1 + x2) + x3
                    }
                }
                let g = dW + (o * inChannels + c) * 9
                for r in 0..<3 {
                    let x0 = t(r, 0), x1 = t(r, 1), x2 = t(r, 2), x3 = t(r, 3)
                    g[3 * r] += x0 + 0.5 * (x1 + x2)
                    g[3 * r + 1] += 0.5 * (x1 - x2)
                    g[3 * r + 2] += 0.5 * (x1 + x2) + x3
                }
            }
        }
    }

    // MARK: - Tiles of an input plane

    /// One plane (height, width, rows `rowStride` apart) into `padded` (`tiles.paddedSize`
    /// values, its border already zero) at (padding, padding).
    @inline(__always)
    static func pad(_ plane: UnsafePointer<Float>, height: Int, width: Int, rowStride: Int, padding: Int,
                    tiles: Tiles, into padded: UnsafeMutablePointer<Float>) {
        let wp = tiles.paddedWidth
        VectorOps.copyRows(plane, stride: rowStride, into: padded + padding * wp + padding, stride: wp,
                           rows: height, width: width)
    }

    /// V = Bᵀ d B for every tile of a padded plane: v[ξ · ξStride + t], t = tile row · columns +
    /// tile column, eight tiles at a time (the lanes past a row's last tile written too).
    static func transformInput(_ padded: UnsafePointer<Float>, tiles: Tiles, into v: UnsafeMutablePointer<Float>,
                               ξStride: Int) {
        let wp = tiles.paddedWidth
        for ty in 0..<tiles.rows {
            let r0 = padded + 2 * ty * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
            var tx = 0
            while tx < tiles.columns {
                let x = 2 * tx
                // Bᵀ d: the tile rows combined, over columns x ..< x + 16 and x + 2 ..< x + 18.
                @inline(__always) func rows(_ at: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                    let a = load16(r0 + at), b = load16(r1 + at), c = load16(r2 + at), d = load16(r3 + at)
                    return (a - c, b + c, c - b, b - d)
                }
                let lo = rows(x), hi = rows(x + 2)
                let out = v + ty * tiles.columns + tx
                // (Bᵀ d) B: each row's columns c0 = x, c1 = x + 1, c2 = x + 2, c3 = x + 3 of eight tiles.
                @inline(__always) func columns(_ i: Int, _ l: SIMD16<Float>, _ h: SIMD16<Float>) {
                    let c0 = l.evenHalf, c1 = l.oddHalf, c2 = h.evenHalf, c3 = h.oddHalf
                    store8(c0 - c2, out + (4 * i) * ξStride)
                    store8(c1 + c2, out + (4 * i + 1) * ξStride)
                    store8(c2 - c1, out + (4 * i + 2) * ξStride)
                    store8(c1 - c3, out + (4 * i + 3) * ξStride)
                }
                columns(0, lo.0, hi.0)
                columns(1, lo.1, hi.1)
                columns(2, lo.2, hi.2)
                columns(3, lo.3, hi.3)
                tx += 8
            }
        }
    }

    /// dM = A dY Aᵀ for every tile of a padded plane of dY (its 2×2 tiles from (0, 0), zeros past
    /// the plane): m[ξ · ξStride + t], eight tiles at a time.
    static func transformOutputGradient(_ padded: UnsafePointer<Float>, tiles: Tiles,
                                        into m: UnsafeMutablePointer<Float>, ξStride: Int) {
        let wp = tiles.paddedWidth
        for ty in 0..<tiles.rows {
            let r0 = padded + 2 * ty * wp, r1 = r0 + wp
            var tx = 0
            while tx < tiles.columns {
                let top = load16(r0 + 2 * tx), bottom = load16(r1 + 2 * tx)
                let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, d = bottom.oddHalf
                let out = m + ty * tiles.columns + tx
                // A dY: rows (a, b), (a + c, b + d), (a − c, b − d), (−c, −d); then each row (x0, x1)
                // times Aᵀ: (x0, x0 + x1, x0 − x1, −x1).
                @inline(__always) func row(_ i: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>) {
                    store8(x0, out + (4 * i) * ξStride)
                    store8(x0 + x1, out + (4 * i + 1) * ξStride)
                    store8(x0 - x1, out + (4 * i + 2) * ξStride)
                    store8(-x1, out + (4 * i + 3) * ξStride)
                }
                row(0, a, b)
                row(1, a + c, b + d)
                row(2, a - c, b - d)
                row(3, -c, -d)
                tx += 8
            }
        }
    }

    /// Y = Aᵀ M A for every tile of one output plane (height × width, rows `rowStride` apart),
    /// from m[ξ · ξStride + t], eight tiles at a time. Each pair of output rows is written in
    /// whole vectors into `rows` (2 · `tiles.paddedWidth` values), then copied out: a row's
    /// last values need no narrower stores.
    static func transformOutput(_ m: UnsafePointer<Float>, ξStride: Int, tiles: Tiles,
                                into y: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>) {
        let height = tiles.height, width = tiles.width, wp = tiles.paddedWidth
        for ty in 0..<tiles.rows {
            var tx = 0
            while tx < tiles.columns {
                let at = m + ty * tiles.columns + tx
                @inline(__always) func v(_ ξ: Int) -> SIMD8<Float> { load8(at + ξ * ξStride) }
                // Aᵀ M: (row 0 + row 1 + row 2) and (row 1 − row 2 − row 3), column by column.
                var s = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                var d = s
                s.0 = v(0) + v(4) + v(8); d.0 = v(4) - v(8) - v(12)
                s.1 = v(1) + v(5) + v(9); d.1 = v(5) - v(9) - v(13)
                s.2 = v(2) + v(6) + v(10); d.2 = v(6) - v(10) - v(14)
                s.3 = v(3) + v(7) + v(11); d.3 = v(7) - v(11) - v(15)
                // (Aᵀ M) A: the same on the columns.
                let top = interleave(s.0 + s.1 + s.2, s.1 - s.2 - s.3)
                let bottom = interleave(d.0 + d.1 + d.2, d.1 - d.2 - d.3)
                store16(top, rows + 2 * tx)
                store16(bottom, rows + wp + 2 * tx)
                tx += 8
            }
            VectorOps.copyRows(rows, stride: wp, into: y + 2 * ty * rowStride, stride: rowStride,
                               rows: min(2, height - 2 * ty), width: width)
        }
    }

    // MARK: - A convolution

    /// out = conv(input, kernels transformed in u (16, outC, inC)) for `count` samples, stride 1:
    /// input plane (s, c) at `input + s·sampleStride + c·channelStride` (height × width, rows
    /// `width` apart), output plane (s, o) likewise (tiles.height × tiles.width). Scratch: `v`
    /// (16 · inC · ld), `m` (16 · outC · ld), `padded` (tiles.paddedSize: the padded input
    /// planes, then the output rows).
    static func convolve(_ input: UnsafePointer<Float>, sampleStride: Int, channelStride: Int, channels inC: Int,
                         height: Int, width: Int, padding: Int, u: UnsafePointer<Float>, outChannels outC: Int,
                         into output: UnsafeMutablePointer<Float>, outSampleStride: Int, outChannelStride: Int,
                         tiles: Tiles, count: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                         padded: UnsafeMutablePointer<Float>) {
        let ld = tiles.ld(count: count), perSample = tiles.perSample
        transformInputs(input, sampleStride: sampleStride, channelStride: channelStride, channels: inC,
                        height: height, width: width, padding: padding, tiles: tiles, count: count, into: v,
                        padded: padded)
        // M[ξ] (outC, tiles) = U[ξ] (outC, inC) · V[ξ] (inC, tiles)
        for ξ in 0..<16 {
            GEMM.multiply(m: outC, n: tiles.columnsComputed(count: count), k: inC, a: u + ξ * outC * inC, lda: inC,
                          b: v + ξ * inC * ld, ldb: ld, c: m + ξ * outC * ld, ldc: ld, denseA: true)
        }
        for s in 0..<count {
            for o in 0..<outC {
                transformOutput(m + o * ld + s * perSample, ξStride: outC * ld, tiles: tiles,
                                into: output + s * outSampleStride + o * outChannelStride, rowStride: tiles.width,
                                rows: padded)
            }
        }
    }

    /// dUᵀ (16, inC, outC) += the weight gradient's transformed sums of `count` samples, stride 1:
    /// dUᵀ[ξ] (inC, outC) += V[ξ] (inC, tiles) · dM[ξ]ᵀ (tiles, outC), with V the input's tiles
    /// as `convolve` transforms them and dM = A dz Aᵀ of each output tile; dz plane (s, o) at
    /// `dz + s·dzSampleStride + o·dzChannelStride` (tiles.height × tiles.width). Scratch as
    /// `convolve`'s (`dM` in place of `m`).
    static func addWeightGradient(_ input: UnsafePointer<Float>, sampleStride: Int, channelStride: Int,
                                  channels inC: Int, height: Int, width: Int, padding: Int,
                                  dz: UnsafePointer<Float>, dzSampleStride: Int, dzChannelStride: Int,
                                  outChannels outC: Int, tiles: Tiles, count: Int, into dUT: UnsafeMutablePointer<Float>,
                                  v: UnsafeMutablePointer<Float>, dM: UnsafeMutablePointer<Float>,
                                  padded: UnsafeMutablePointer<Float>) {
        let ld = tiles.ld(count: count), perSample = tiles.perSample
        transformInputs(input, sampleStride: sampleStride, channelStride: channelStride, channels: inC,
                        height: height, width: width, padding: padding, tiles: tiles, count: count, into: v,
                        padded: padded)
        // dz's planes from (0, 0) of a zeroed plane: zeros past them, in the last tiles' halves.
        padded.update(repeating: 0, count: tiles.paddedSize)
        for s in 0..<count {
            for o in 0..<outC {
                pad(dz + s * dzSampleStride + o * dzChannelStride, height: tiles.height, width: tiles.width,
                    rowStride: tiles.width, padding: 0, tiles: tiles, into: padded)
                transformOutputGradient(padded, tiles: tiles, into: dM + o * ld + s * perSample, ξStride: outC * ld)
            }
        }
        // The sums run over the tiles only (not the computed columns past them).
        for ξ in 0..<16 {
            GEMM.multiply(transB: true, m: inC, n: outC, k: count * perSample, a: v + ξ * inC * ld, lda: ld,
                          b: dM + ξ * outC * ld, ldb: ld, beta: 1, c: dUT + ξ * inC * outC, ldc: outC)
        }
    }

    /// V (16, inC, ld) of `count` samples' input planes, as `convolve` reads them.
    static func transformInputs(_ input: UnsafePointer<Float>, sampleStride: Int, channelStride: Int, channels inC: Int,
                                height: Int, width: Int, padding: Int, tiles: Tiles, count: Int,
                                into v: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        let ld = tiles.ld(count: count), perSample = tiles.perSample
        padded.update(repeating: 0, count: tiles.paddedSize)
        for s in 0..<count {
            for c in 0..<inC {
                pad(input + s * sampleStride + c * channelStride, height: height, width: width, rowStride: width,
                    padding: padding, tiles: tiles, into: padded)
                transformInput(padded, tiles: tiles, into: v + c * ld + s * perSample, ξStride: inC * ld)
            }
        }
    }

}
