/// The direct path of `SIMDGEMM` for problems too small to repay packing: a single row of C
/// (online SGD, batch 1), a tiny inner dimension (an outer product), a narrow C.
///
/// Row by row of C: when op(B)'s rows are contiguous (`!transB`) the row is accumulated in
/// registers as Σ_q (alpha · op(A)[i, q]) · op(B)[q, :], skipping the q whose coefficient is
/// zero; otherwise (`transB`) each value is a vectorised dot product of two contiguous rows.
enum SmallGEMM {
    static func run(_ p: GEMMProblem) {
        for i in 0..<p.m {
            let row = p.c + i * p.ldc
            // op(A)[i, q] = aRow[q · aStride]
            let aRow = p.transA ? p.a + i : p.a + i * p.lda
            let aStride = p.transA ? p.lda : 1
            if p.transB {
                rowDotRows(p, aRow: aRow, aStride: aStride, row: row)
            } else {
                rowTimesRows(p, aRow: aRow, aStride: aStride, row: row)
            }
            p.epilogue.apply(row: row, column: 0, count: p.n)
        }
    }

    /// row = beta · row + Σ_q (alpha · a[q]) · B[q, :], B's rows contiguous (`!transB`).
    @inline(__always)
    static func rowTimesRows(_ p: GEMMProblem, aRow: UnsafePointer<Float>, aStride: Int, row: UnsafeMutablePointer<Float>) {
        let n = p.n, k = p.k, ldb = p.ldb, alpha = p.alpha, beta = p.beta
        @inline(__always) func start(_ j: Int) -> SIMD8<Float> {
            beta == 0 ? SIMD8<Float>() : (beta == 1 ? load8(row + j) : beta * load8(row + j))
        }
        var j = 0
        // 32 columns at a time in four registers.
        while j + 32 <= n {
            var c0 = start(j), c1 = start(j + 8), c2 = start(j + 16), c3 = start(j + 24)
            var bq = p.b + j
            for q in 0..<k {
                let s = alpha * aRow[q &* aStride]
                if s != 0 {
                    let x = SIMD8<Float>(repeating: s)
                    c0 = madd(c0, x, load8(bq)); c1 = madd(c1, x, load8(bq + 8))
                    c2 = madd(c2, x, load8(bq + 16)); c3 = madd(c3, x, load8(bq + 24))
                }
                bq += ldb
            }
            store8(c0, row + j); store8(c1, row + j + 8); store8(c2, row + j + 16); store8(c3, row + j + 24)
            j += 32
        }
        while j + 8 <= n {
            var c0 = start(j)
            var bq = p.b + j
            for q in 0..<k {
                let s = alpha * aRow[q &* aStride]
                if s != 0 { c0 = madd(c0, SIMD8<Float>(repeating: s), load8(bq)) }
                bq += ldb
            }
            store8(c0, row + j)
            j += 8
        }
        while j < n {
            var v: Float = beta == 0 ? 0 : beta * row[j]
            var bq = p.b + j
            for q in 0..<k {
                let s = alpha * aRow[q &* aStride]
                if s != 0 { v = madd(v, s, bq[0]) }
                bq += ldb
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
