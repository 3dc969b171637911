/// The direct path of `SIMDGEMM` for problems too small to repay packing: a single row of C
/// (online SGD, batch 1), a tiny inner dimension (an outer product), a narrow C.
///
/// Row by row of C: when op(B)'s rows are contiguous (`!transB`) the row is accumulated in
/// registers as Σ_q (alpha · op(A)[i, q]) · op(B)[q, :] over the q whose coefficient is nonzero
/// (listed first, without branches); otherwise (`transB`) each value is a vectorised dot product
/// of two contiguous rows. An outer product (k = 1) accumulated into C touches only the rows
/// whose coefficient is nonzero.
enum SmallGEMM {
    static func run(_ p: GEMMProblem) {
        if p.k == 1 && p.beta == 1 && !p.transB && p.epilogue.bias == nil && p.epilogue.activation == nil {
            outerProduct(p)
            return
        }
        let ws = GEMMWorkspace.current
        ws.reserve(a: 0, b: 0, indices: p.k)
        let list = ws.aIndex
        for i in 0..<p.m {
            let row = p.c + i * p.ldc
            // op(A)[i, q] = aRow[q · aStride]
            let aRow = p.transA ? p.a + i : p.a + i * p.lda
            let aStride = p.transA ? p.lda : 1
            if p.transB {
                rowDotRows(p, aRow: aRow, aStride: aStride, row: row)
            } else {
                let count = nonzeroIndices(aRow, stride: aStride, count: p.k, into: list)
                rowTimesRows(p, aRow: aRow, aStride: aStride, list: list, count: count, row: row)
            }
            p.epilogue.apply(row: row, column: 0, count: p.n)
        }
    }

    /// The indices q < count with x[q · stride] ≠ 0, in order, written to `out`; returns how
    /// many. Branch-free: which pixels of an image are ink is too irregular to predict.
    @inline(__always)
    static func nonzeroIndices(_ x: UnsafePointer<Float>, stride: Int, count: Int, into out: UnsafeMutablePointer<Int32>) -> Int {
        var kept = 0, q = 0
        if stride == 1 {
            while q + 8 <= count {
                let mask = SIMDGEMM.laneMask(SIMDGEMM.bits(load8(x + q)))
                if mask != 0 {
                    for lane in 0..<8 {
                        out[kept] = Int32(truncatingIfNeeded: q &+ lane)
                        kept &+= (mask &>> lane) & 1
                    }
                }
                q += 8
            }
        }
        while q < count {
            out[kept] = Int32(truncatingIfNeeded: q)
            kept &+= x[q &* stride].bitPattern & 0x7fff_ffff == 0 ? 0 : 1
            q += 1
        }
        return kept
    }

    /// C += op(A) ⊗ op(B) for k = 1, beta = 1 and no epilogue (the weight gradient of one
    /// sample): only the rows whose coefficient is nonzero are touched.
    static func outerProduct(_ p: GEMMProblem) {
        let ws = GEMMWorkspace.current
        ws.reserve(a: 0, b: 0, indices: p.m)
        let list = ws.aIndex
        // op(A)[i, 0] = a[i · stride]
        let stride = p.transA ? 1 : p.lda
        let count = nonzeroIndices(p.a, stride: stride, count: p.m, into: list)
        let b = p.b, n = p.n
        for t in 0..<count {
            let i = Int(list[t])
            let s = p.alpha * p.a[i &* stride]
            let row = p.c + i * p.ldc
            var j = 0
            let x = SIMD8<Float>(repeating: s)
            while j + 8 <= n {
                store8(madd(load8(row + j), x, load8(b + j)), row + j)
                j += 8
            }
            while j < n { row[j] = madd(row[j], s, b[j]); j += 1 }
        }
    }

    /// row = beta · row + Σ_q (alpha · a[q]) · B[q, :] over the q in `list` (those with
    /// a[q] ≠ 0), B's rows contiguous (`!transB`). Two k-steps at a time into separate
    /// registers, to hide the latency of the multiply-add.
    @inline(__always)
    static func rowTimesRows(_ p: GEMMProblem, aRow: UnsafePointer<Float>, aStride: Int,
                             list: UnsafePointer<Int32>, count: Int, row: UnsafeMutablePointer<Float>) {
        let n = p.n, ldb = p.ldb, alpha = p.alpha, beta = p.beta, b = p.b
        @inline(__always) func start(_ j: Int) -> SIMD8<Float> {
            beta == 0 ? SIMD8<Float>() : (beta == 1 ? load8(row + j) : beta * load8(row + j))
        }
        @inline(__always) func term(_ t: Int) -> (SIMD8<Float>, UnsafePointer<Float>) {
            let q = Int(list[t])
            return (SIMD8<Float>(repeating: alpha * aRow[q &* aStride]), b + q &* ldb)
        }
        var j = 0
        while j + 16 <= n {
            var c0 = start(j), c1 = start(j + 8), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
            var t = 0
            while t + 2 <= count {
                let (x, bq) = term(t), (y, br) = term(t + 1)
                c0 = madd(c0, x, load8(bq + j)); c1 = madd(c1, x, load8(bq + j + 8))
                d0 = madd(d0, y, load8(br + j)); d1 = madd(d1, y, load8(br + j + 8))
                t += 2
            }
            if t < count {
                let (x, bq) = term(t)
                c0 = madd(c0, x, load8(bq + j)); c1 = madd(c1, x, load8(bq + j + 8))
            }
            store8(c0 + d0, row + j); store8(c1 + d1, row + j + 8)
            j += 16
        }
        while j + 8 <= n {
            var c0 = start(j), d0 = SIMD8<Float>()
            var t = 0
            while t + 2 <= count {
                let (x, bq) = term(t), (y, br) = term(t + 1)
                c0 = madd(c0, x, load8(bq + j)); d0 = madd(d0, y, load8(br + j))
                t += 2
            }
            if t < count {
                let (x, bq) = term(t)
                c0 = madd(c0, x, load8(bq + j))
            }
            store8(c0 + d0, row + j)
            j += 8
        }
        while j < n {
            var v: Float = beta == 0 ? 0 : beta * row[j]
            for t in 0..<count {
                let q = Int(list[t])
                v = madd(v, alpha * aRow[q &* aStride], b[q &* ldb + j])
            }
            row[j] = v
            j += 1
        }
    }

    /// row[j] = alpha · Σ_q a[q] · B[j, q] + beta · row[j], B's rows contiguous along q (`transB`).
    @inline(__always)
    static func rowDotRows(_ p: GEMMProblem, aRow: UnsafePointer<Float>, aStride: Int, row: UnsafeMutablePointer<Float>) {
        let k = p.k
        for j in 0..<p.n {
            let bRow = p.b + j * p.ldb
            var sum: Float
            if aStride == 1 {
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
                var q = 0
                while q + 16 <= k {
                    s0 = madd(s0, load8(aRow + q), load8(bRow + q))
                    s1 = madd(s1, load8(aRow + q + 8), load8(bRow + q + 8))
                    q += 16
                }
                if q + 8 <= k {
                    s0 = madd(s0, load8(aRow + q), load8(bRow + q))
                    q += 8
                }
                sum = (s0 + s1).sum()
                while q < k { sum = madd(sum, aRow[q], bRow[q]); q += 1 }
            } else {
                sum = 0
                for q in 0..<k { sum = madd(sum, aRow[q &* aStride], bRow[q]) }
            }
            row[j] = p.beta == 0 ? p.alpha * sum : madd((p.alpha * sum), p.beta, row[j])
        }
    }
}
