// MARK: - Wide register tiles (a kernel injected from outside the core)

/// A micro-kernel for wider register tiles than the core's 8-lane vectors allow, such as
/// AVX-512's: one row panel of A (`SIMDGEMM.mr` rows) times 1 to `SIMDGEMM.widePanels` whole
/// column panels of B, the sums only (no alpha, beta, bias or activation).
///
/// Parameters, in order: the number of k-steps; whether A's panel kept every k-step (1) or
/// `indices` says which row of B each step pairs with (0); A, the step between its rows and
/// between its k-steps; the indices; B, the step between its rows and between its panels; the
/// number of panels; where to write the sums (row r at `out + r · 16 · widePanels`) when C is
/// nil; else C, its row stride, how many of the six rows to store, alpha and beta: C = alpha ·
/// sum (no product when alpha is 1), then + beta · C as one fused multiply-add when beta is not
/// 0, as `finishTile` does.
///
/// It must sum each value of C in the order `SIMDGEMM.microKernel` does (one fused
/// multiply-add per k-step, k in order, from zero): then the results are the same bit for bit
/// with or without it, on any machine. The core cannot hold such code itself (it imports only
/// the standard library and is compiled for one instruction set); an edge module sets
/// `SIMDGEMM.defaultWideTiles` after checking the processor (DigitsAVX512).
public typealias WideTileKernel = @convention(c) (
    _ count: Int, _ dense: Int32,
    _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aStep: Int,
    _ indices: UnsafePointer<Int32>,
    _ b: UnsafePointer<Float>, _ bStride: Int, _ bPanelStride: Int,
    _ panels: Int, _ out: UnsafeMutablePointer<Float>,
    _ c: UnsafeMutablePointer<Float>?, _ ldc: Int, _ rows: Int, _ alpha: Float, _ beta: Float
) -> Void

extension SIMDGEMM {
    /// The most column panels a wide tile spans (four 16-wide panels: 6 × 64 values).
    public static let widePanels = 4

    /// The wide-tile kernel new `SIMDGEMM` instances use, or nil (the core's own tiles only).
    /// Set once at start-up, before any multiply, by the program's edge (DigitsAVX512).
    nonisolated(unsafe) public static var defaultWideTiles: WideTileKernel?

    /// One row panel of A times `panels` whole column panels of B through `kernel`, finished as
    /// `microKernel` finishes its tiles: the kernel stores C (alpha, beta), then bias and
    /// activation are applied row by row (`epilogue16`); a tile stored transposed comes back as
    /// sums in `out` and each 6 × 16 part goes through `finishTile`.
    ///
    /// `out` is scratch for the 6 × (16 · widePanels) sums; `tile` is `finishTile`'s.
    @inline(__always)
    static func wideTiles(_ kernel: WideTileKernel, panels: Int, count: Int, dense: Bool,
                          a: UnsafePointer<Float>, aRowStride: Int, aStep: Int, indices: UnsafePointer<Int32>,
                          b: UnsafePointer<Float>, bStride: Int, bPanelStride: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, cPanelStep: Int, transposedC: Bool, rows: Int,
                          alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                          out: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>) {
        if !transposedC {
            kernel(count, dense ? 1 : 0, a, aRowStride, aStep, indices, b, bStride, bPanelStride, panels, out,
                   c, ldc, rows, alpha, beta)
            if bias != nil || activation != nil {
                for r in 0..<rows {
                    for g in 0..<panels {
                        epilogue16(c + r * ldc + g * nr, bias: bias.map { $0 + g * nr }, activation: activation)
                    }
                }
            }
            return
        }
        kernel(count, dense ? 1 : 0, a, aRowStride, aStep, indices, b, bStride, bPanelStride, panels, out,
               nil, 0, 0, 1, 0)
        let w = nr * widePanels
        for g in 0..<panels {
            let o = out + g * nr
            finishTile(load8(o), load8(o + 8), load8(o + w), load8(o + w + 8),
                       load8(o + 2 * w), load8(o + 2 * w + 8), load8(o + 3 * w), load8(o + 3 * w + 8),
                       load8(o + 4 * w), load8(o + 4 * w + 8), load8(o + 5 * w), load8(o + 5 * w + 8),
                       c: c + g * cPanelStep, ldc: ldc, transposedC: true, rows: rows, cols: nr,
                       alpha: alpha, beta: beta, bias: nil, activation: nil, tile: tile)
        }
    }
}
