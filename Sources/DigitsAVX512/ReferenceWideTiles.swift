import DigitsCore

/// The plain reference for `avx512WideTiles` (DigitsAVX512Kernels): the same sums, one value at a time, each the
/// chain acc = fma(a, b, acc) over the k-steps in order, as `WideTileKernel` specifies. Tests
/// check the AVX-512 kernel against it bit for bit, and run the core's wide-tile path with it
/// on machines without AVX-512.
public let referenceWideTiles: WideTileKernel = {
    count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, panels, out, c, ldc, rows, alpha, beta in
    for r in 0..<SIMDGEMM.mr {
        for p in 0..<panels {
            for j in 0..<SIMDGEMM.nr {
                var acc: Float = 0
                for q in 0..<count {
                    let row = dense != 0 ? q : Int(indices[q])
                    acc = acc.addingProduct(a[q * aStep + r * aRowStride], b[row * bStride + p * bPanelStride + j])
                }
                if let c {
                    // C (rows, 16 · panels), row r at c + r · ldc: the micro-kernel's finish.
                    guard r < rows else { continue }
                    let at = c + r * ldc + p * SIMDGEMM.nr + j
                    var v = acc
                    if alpha != 1 { v *= alpha }
                    if beta != 0 { v = v.addingProduct(beta, at.pointee) }
                    at.pointee = v
                } else {
                    // out: (6, 16 · 4), row r at out + 64 · r.
                    out[r * SIMDGEMM.nr * SIMDGEMM.widePanels + p * SIMDGEMM.nr + j] = acc
                }
            }
        }
    }
}
