// The AVX-512 register tiles for DigitsCore's matrix multiply, in Swift. This module alone is
// compiled for x86-64-v4 (Package.swift), and nothing in it runs unless DigitsAVX512 has found
// AVX-512 on the processor: one binary still runs on any x86-64-v3 machine. It imports only the
// standard library (not DigitsCore), so that no code of another module is compiled here for
// AVX-512 and shared with callers that may lack it.

#if DIGITS_AVX512_KERNELS

/// 16 floats: one zmm register.
typealias V16 = SIMD16<Float>

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) private func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

// MARK: - The kernel

/// One row panel of A (6 rows) times 1-4 whole 16-wide column panels of B: a 6 × (16·panels)
/// tile of sums, the contract of DigitsCore's `WideTileKernel` (the same parameters in the same
/// order).
///
/// Step q reads A's six values at `a + q·aStep + r·aRowStride` and B's row at
/// `b + (dense ? q : indices[q])·bStride`, panel p of it at `+ p·bPanelStride`. Each value of C is
/// the chain acc = fma(a[q, r], b[q, j], acc) over q in order, from zero, as the core's 8-lane
/// micro-kernel sums it, so both give the same bits.
///
/// With `c` nil the sums go to `out` (row r at `out + 64·r`). Otherwise C's first `rows` rows
/// (row r at `c + r·ldc`) are finished as the micro-kernel finishes them: alpha·sum (no product
/// when alpha is 1), then + beta·C as one fused multiply-add when beta is not 0; and when C's
/// last row panel has four rows or fewer, only the first two or four of A's rows are multiplied
/// (the others would be thrown away).
///
/// Must only be called on a processor with AVX-512 (x86-64-v4).
public func avx512WideTiles(_ count: Int, _ dense: Int32, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aStep: Int,
                            _ indices: UnsafePointer<Int32>, _ b: UnsafePointer<Float>, _ bStride: Int, _ bPanelStride: Int,
                            _ panels: Int, _ out: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>?,
                            _ ldc: Int, _ rows: Int, _ alpha: Float, _ beta: Float) {
    // C's last row panel may have fewer rows than the tile: then only the rows stored are
    // computed (2 or 4 of the 6), with the same sums.
    let r = c == nil || rows > 4 ? 6 : rows > 2 ? 4 : 2
    @inline(__always) func run<P: TileCount, R: TileCount>(_: P.Type, _: R.Type) {
        specialisedTile(P.self, R.self, count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc, rows, alpha, beta)
    }
    switch (panels, r) {
    case (1, 6): run(One.self, Six.self)
    case (2, 6): run(Two.self, Six.self)
    case (3, 6): run(Three.self, Six.self)
    case (_, 6): run(Four.self, Six.self)
    case (1, 4): run(One.self, Four.self)
    case (2, 4): run(Two.self, Four.self)
    case (3, 4): run(Three.self, Four.self)
    case (_, 4): run(Four.self, Four.self)
    case (1, _): run(One.self, Two.self)
    case (2, _): run(Two.self, Two.self)
    case (3, _): run(Three.self, Two.self)
    default: run(Four.self, Two.self)
    }
}

// The panel and row counts as types, so that each (panels, rows) pair gets its own copy of the
// tile, with its counts constants: exactly rows·panels accumulators in registers (24 of the 32
// for six rows of four panels) and no branch in the loop. (A function called with the counts as
// arguments from twelve places is not inlined twelve times, and would keep them as variables.)
private protocol TileCount { static var value: Int { get } }
private enum One: TileCount { static var value: Int { 1 } }
private enum Two: TileCount { static var value: Int { 2 } }
private enum Three: TileCount { static var value: Int { 3 } }
private enum Four: TileCount { static var value: Int { 4 } }
private enum Six: TileCount { static var value: Int { 6 } }

/// `tile(panels:rows:…)` for P panels and R rows, one specialised function per pair.
@inline(never)
private func specialisedTile<P: TileCount, R: TileCount>(
    _: P.Type, _: R.Type, _ count: Int, _ dense: Int32, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aStep: Int,
    _ indices: UnsafePointer<Int32>, _ b: UnsafePointer<Float>, _ bStride: Int, _ bPanelStride: Int,
    _ out: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int, _ rows: Int, _ alpha: Float, _ beta: Float
) {
    tile(panels: P.value, rows: R.value, count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc,
         rows, alpha, beta)
}

/// The tile for `panels` panels and the first `rows` rows of A's panel (constants where it is
/// inlined): accumulator c_rp holds row r of A's panel times panel p of B.
@inline(__always)
private func tile(panels P: Int, rows R: Int, _ count: Int, _ dense: Int32, _ a: UnsafePointer<Float>, _ aRowStride: Int, _ aStep: Int,
                  _ indices: UnsafePointer<Int32>, _ b: UnsafePointer<Float>, _ bStride: Int, _ bPanelStride: Int,
                  _ out: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int,
                  _ rows: Int, _ alpha: Float, _ beta: Float) {
    var c00 = V16(), c01 = V16(), c02 = V16(), c03 = V16()
    var c10 = V16(), c11 = V16(), c12 = V16(), c13 = V16()
    var c20 = V16(), c21 = V16(), c22 = V16(), c23 = V16()
    var c30 = V16(), c31 = V16(), c32 = V16(), c33 = V16()
    var c40 = V16(), c41 = V16(), c42 = V16(), c43 = V16()
    var c50 = V16(), c51 = V16(), c52 = V16(), c53 = V16()
    var ap = a
    for q in 0..<count {
        // B's row for this step, panel by panel.
        let bp = b + (dense != 0 ? q : Int(indices[q])) * bStride
        let b0 = load(bp)
        let b1 = P > 1 ? load(bp + bPanelStride) : V16()
        let b2 = P > 2 ? load(bp + 2 * bPanelStride) : V16()
        let b3 = P > 3 ? load(bp + 3 * bPanelStride) : V16()
        // Each of A's six values times the row: acc = fma(a, b, acc).
        var x = V16(repeating: ap[0])
        c00 = c00.addingProduct(x, b0)
        if P > 1 { c01 = c01.addingProduct(x, b1) }; if P > 2 { c02 = c02.addingProduct(x, b2) }; if P > 3 { c03 = c03.addingProduct(x, b3) }
        x = V16(repeating: ap[aRowStride])
        c10 = c10.addingProduct(x, b0)
        if P > 1 { c11 = c11.addingProduct(x, b1) }; if P > 2 { c12 = c12.addingProduct(x, b2) }; if P > 3 { c13 = c13.addingProduct(x, b3) }
        if R > 2 {
            x = V16(repeating: ap[2 * aRowStride])
            c20 = c20.addingProduct(x, b0)
            if P > 1 { c21 = c21.addingProduct(x, b1) }; if P > 2 { c22 = c22.addingProduct(x, b2) }; if P > 3 { c23 = c23.addingProduct(x, b3) }
            x = V16(repeating: ap[3 * aRowStride])
            c30 = c30.addingProduct(x, b0)
            if P > 1 { c31 = c31.addingProduct(x, b1) }; if P > 2 { c32 = c32.addingProduct(x, b2) }; if P > 3 { c33 = c33.addingProduct(x, b3) }
        }
        if R > 4 {
            x = V16(repeating: ap[4 * aRowStride])
            c40 = c40.addingProduct(x, b0)
            if P > 1 { c41 = c41.addingProduct(x, b1) }; if P > 2 { c42 = c42.addingProduct(x, b2) }; if P > 3 { c43 = c43.addingProduct(x, b3) }
            x = V16(repeating: ap[5 * aRowStride])
            c50 = c50.addingProduct(x, b0)
            if P > 1 { c51 = c51.addingProduct(x, b1) }; if P > 2 { c52 = c52.addingProduct(x, b2) }; if P > 3 { c53 = c53.addingProduct(x, b3) }
        }
        ap += aStep
    }
    finishRow(panels: P, 0, c00, c01, c02, c03, out, c, ldc, rows, alpha, beta)
    finishRow(panels: P, 1, c10, c11, c12, c13, out, c, ldc, rows, alpha, beta)
    if R > 2 {
        finishRow(panels: P, 2, c20, c21, c22, c23, out, c, ldc, rows, alpha, beta)
        finishRow(panels: P, 3, c30, c31, c32, c33, out, c, ldc, rows, alpha, beta)
    }
    if R > 4 {
        finishRow(panels: P, 4, c40, c41, c42, c43, out, c, ldc, rows, alpha, beta)
        finishRow(panels: P, 5, c50, c51, c52, c53, out, c, ldc, rows, alpha, beta)
    }
}

/// Row r of a tile: its sums to `out` when C is nil; else, when r < rows, C's row finished.
@inline(__always)
private func finishRow(panels P: Int, _ r: Int, _ v0: V16, _ v1: V16, _ v2: V16, _ v3: V16, _ out: UnsafeMutablePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>?, _ ldc: Int, _ rows: Int, _ alpha: Float, _ beta: Float) {
    guard let c else {
        let o = out + 64 * r
        store(v0, o)
        if P > 1 { store(v1, o + 16) }; if P > 2 { store(v2, o + 32) }; if P > 3 { store(v3, o + 48) }
        return
    }
    guard r < rows else { return }
    let row = c + r * ldc
    @inline(__always) func finish(_ sum: V16, _ at: UnsafeMutablePointer<Float>) {
        var v = sum
        if alpha != 1 { v *= alpha }
        if beta != 0 { v = v.addingProduct(V16(repeating: beta), load(at)) }
        store(v, at)
    }
    finish(v0, row)
    if P > 1 { finish(v1, row + 16) }; if P > 2 { finish(v2, row + 32) }; if P > 3 { finish(v3, row + 48) }
}

// MARK: - The FMA peak at this width

/// `iterations` turns of 12 independent 16-lane fused multiply-adds (the peak `digits bench`
/// measures at the width of these kernels). Must only be called on a processor with AVX-512.
public func avx512FMALoop(_ iterations: Int) -> Float {
    let x = V16(repeating: 0.999999), y = V16(repeating: 1e-7)
    var a0 = V16(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
    var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    for _ in 0..<iterations {
        a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x); a2 = y.addingProduct(a2, x)
        a3 = y.addingProduct(a3, x); a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x)
        a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x); a8 = y.addingProduct(a8, x)
        a9 = y.addingProduct(a9, x); a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
    }
    let sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
    return sum.sum()
}

#endif
