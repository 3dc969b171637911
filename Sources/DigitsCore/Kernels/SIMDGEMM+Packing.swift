// MARK: - Packing

/// Packing for `SIMDGEMM`: op(B) copied into panels of 16 columns and op(A) into panels of 6
/// rows, k-step after k-step, so that the micro-kernel reads both in order. Packing op(A) also
/// leaves out the k-steps whose six values are all zero.
extension SIMDGEMM {
    /// Packs op(B)[k ..< k+kCount, column ..< column+columnCount] as panels of `nr` columns, each
    /// stored k-step after k-step (`nr` values each), the last panel padded with zeros.
    @inline(__always)
    static func packB(_ p: GEMMProblem, k k0: Int, kCount: Int, column j0: Int, columnCount: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        let ldb = p.ldb
        var j = 0
        while j < columnCount {
            let cols = min(nr, columnCount - j)
            let panel = dst + j * kCount
            if !p.transB {
                // op(B)[q, c] = b[q·ldb + c]: rows of the panel are contiguous in B.
                let src = p.b + k0 * ldb + j0 + j
                if cols == nr {
                    for q in 0..<kCount {
                        let s = src + q * ldb, d = panel + q * nr
                        store8(load8(s), d); store8(load8(s + 8), d + 8)
                    }
                } else {
                    for q in 0..<kCount {
                        let s = src + q * ldb, d = panel + q * nr
                        for c in 0..<cols { d[c] = s[c] }
                        for c in cols..<nr { d[c] = 0 }
                    }
                }
            } else {
                // op(B)[q, c] = b[c·ldb + q]: each column of the panel is a row of B.
                let src = p.b + (j0 + j) * ldb + k0
                if cols == nr {
                    transposeInto16(src, ld: ldb, count: kCount, dst: panel)
                } else {
                    for c in 0..<cols {
                        let s = src + c * ldb
                        for q in 0..<kCount { panel[q * nr + c] = s[q] }
                    }
                    for c in cols..<nr {
                        for q in 0..<kCount { panel[q * nr + c] = 0 }
                    }
                }
            }
            j += nr
        }
    }

    /// dst[q·16 + c] = src[c·ld + q] for c < 16, q < count: 16 rows of `count` values become
    /// `count` rows of 16, through 8 × 8 register transposes.
    @inline(__always)
    static func transposeInto16(_ src: UnsafePointer<Float>, ld: Int, count: Int, dst: UnsafeMutablePointer<Float>) {
        var q = 0
        while q + 8 <= count {
            for half in 0..<2 {
                let s = src + half * 8 * ld + q
                let t = transpose8(load8(s), load8(s + ld), load8(s + 2 * ld), load8(s + 3 * ld),
                                   load8(s + 4 * ld), load8(s + 5 * ld), load8(s + 6 * ld), load8(s + 7 * ld))
                let d = dst + q * nr + half * 8
                store8(t.0, d); store8(t.1, d + nr); store8(t.2, d + 2 * nr); store8(t.3, d + 3 * nr)
                store8(t.4, d + 4 * nr); store8(t.5, d + 5 * nr); store8(t.6, d + 6 * nr); store8(t.7, d + 7 * nr)
            }
            q += 8
        }
        while q < count {
            for c in 0..<nr { dst[q * nr + c] = src[c * ld + q] }
            q += 1
        }
    }

    /// Packs op(A)[row ..< row+rowCount, k ..< k+kCount] as panels of `mr` rows, each stored
    /// k-step after k-step (`mr` values each, missing rows as zeros), leaving out k-steps whose
    /// values are all zero. Panel i starts at `dst + i·panelStrideA(kCount)`; `indices + i·kCount`
    /// holds the k-step of each kept column and `counts[i]` how many were kept.
    @inline(__always)
    static func packA(_ p: GEMMProblem, row i0: Int, rowCount: Int, k k0: Int, kCount: Int,
                      into dst: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                      counts: UnsafeMutablePointer<Int>) {
        let lda = p.lda
        if p.transA {
            // op(A)[r, q] = a[q·lda + r]: the values of a k-step are contiguous, and a k-step
            // is a row of A. Rows are read in order (one row of A feeds every panel) so that
            // the reads stream; rows far apart would defeat the prefetcher at every page.
            let panels = (rowCount + mr - 1) / mr
            for panel in 0..<panels { counts[panel] = 0 }
            let stride = panelStrideA(kCount)
            // Panels read with one 8-wide load: six rows, and two more still inside A's row.
            let wide = p.m - i0 >= 8 ? min(rowCount / mr, (p.m - i0 - 8) / mr + 1) : 0
            for q in 0..<kCount {
                let s = p.a + (k0 + q) * lda + i0
                let step = Int32(truncatingIfNeeded: q)
                var panel = 0, d = dst, idx = indices
                while panel < wide {
                    // One 8-wide load and one 8-wide store (its two extra values overwritten by
                    // the next step); the step is kept when any of the six values is nonzero.
                    let kept = counts[panel]
                    let v = load8(s + panel &* mr)
                    store8(v, d + kept &* mr)
                    idx[kept] = step
                    counts[panel] = kept &+ (isZero6(v) ? 0 : 1)
                    panel &+= 1; d += stride; idx += kCount
                }
                while panel < panels {
                    let rows = min(mr, rowCount - panel * mr)
                    let kept = counts[panel], out = d + kept &* mr
                    var any: UInt32 = 0
                    for r in 0..<mr {
                        let x: Float = r < rows ? s[panel * mr + r] : 0
                        out[r] = x; any |= x.bitPattern
                    }
                    idx[kept] = step
                    counts[panel] = kept &+ (any & 0x7fff_ffff != 0 ? 1 : 0)
                    panel &+= 1; d += stride; idx += kCount
                }
            }
            return
        }
        var i = 0, panel = 0
        while i < rowCount {
            let rows = min(mr, rowCount - i)
            let d = dst + panel * panelStrideA(kCount), idx = indices + panel * kCount
            var kept = 0
            do {
                // op(A)[r, q] = a[r·lda + q]: 8 k-steps of the 6 rows at a time, transposed in
                // registers; 8 all-zero k-steps (an image's border) cost one test.
                let src = p.a + (i0 + i) * lda + k0
                var q = 0
                if rows == mr {
                    let s0 = src, s1 = src + lda, s2 = src + 2 * lda, s3 = src + 3 * lda, s4 = src + 4 * lda, s5 = src + 5 * lda
                    let zero = SIMD8<Float>()
                    while q + 8 <= kCount {
                        let v0 = load8(s0 + q), v1 = load8(s1 + q), v2 = load8(s2 + q)
                        let v3 = load8(s3 + q), v4 = load8(s4 + q), v5 = load8(s5 + q)
                        let mask = laneMask(bits(v0) | bits(v1) | bits(v2) | bits(v3) | bits(v4) | bits(v5))
                        if mask != 0 {
                            let t = transpose8(v0, v1, v2, v3, v4, v5, zero, zero)
                            // t.l holds the 6 values of k-step q + l (and two zeros).
                            @inline(__always) func put(_ v: SIMD8<Float>, _ lane: Int) {
                                store8(v, d + kept &* mr)
                                idx[kept] = Int32(truncatingIfNeeded: q &+ lane)
                                kept &+= (mask &>> lane) & 1
                            }
                            put(t.0, 0); put(t.1, 1); put(t.2, 2); put(t.3, 3)
                            put(t.4, 4); put(t.5, 5); put(t.6, 6); put(t.7, 7)
                        }
                        q += 8
                    }
                }
                while q < kCount {
                    let out = d + kept &* mr
                    var bits: UInt32 = 0
                    for r in 0..<mr {
                        let x: Float = r < rows ? src[r * lda + q] : 0
                        out[r] = x; bits |= x.bitPattern
                    }
                    idx[kept] = Int32(truncatingIfNeeded: q)
                    kept &+= bits & 0x7fff_ffff != 0 ? 1 : 0
                    q += 1
                }
            }
            counts[panel] = kept
            i += mr; panel += 1
        }
    }

    /// Values from one packed A panel to the next: `mr` a k-step, and 8 of slack for the two
    /// values an 8-wide store writes past the last k-step.
    @inline(__always)
    static func panelStrideA(_ kCount: Int) -> Int { mr * kCount + 8 }

    /// Bit l set when lane l of `v`, a float's bits, is nonzero (±0 count as zero). Computed
    /// with vector operations and one horizontal sum: comparing SIMD values with `==` can
    /// compile to a loop over the lanes.
    @inline(__always)
    static func laneMask(_ v: SIMD8<UInt32>) -> Int {
        let flags = pointwiseMin(v & 0x7fff_ffff, SIMD8<UInt32>(repeating: 1))
        return Int((flags &* SIMD8<UInt32>(1, 2, 4, 8, 16, 32, 64, 128)).wrappedSum())
    }

    /// Whether lanes 0-5 of `v` are all zero (±0): one AND and a test of the four 64-bit words.
    @inline(__always)
    static func isZero6(_ v: SIMD8<Float>) -> Bool {
        let sixLanes = SIMD8<UInt32>(0x7fff_ffff, 0x7fff_ffff, 0x7fff_ffff, 0x7fff_ffff, 0x7fff_ffff, 0x7fff_ffff, 0, 0)
        let words = unsafeBitCast(bits(v) & sixLanes, to: SIMD4<UInt64>.self)
        let half = words.lowHalf | words.highHalf
        return half[0] | half[1] == 0
    }

    @inline(__always)
    static func bits(_ v: SIMD8<Float>) -> SIMD8<UInt32> { unsafeBitCast(v, to: SIMD8<UInt32>.self) }

    /// The transpose of the 8 × 8 matrix whose rows are r0 … r7: three rounds of splitting each
    /// pair of vectors into its even and odd lanes (each round rotates the 6 bits of an element's
    /// row-major index by one; three rounds swap row and column).
    @inline(__always)
    static func transpose8(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                           _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>)
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        @inline(__always) func unzip(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
            let ab = SIMD16<Float>(lowHalf: a, highHalf: b)
            return (ab.evenHalf, ab.oddHalf)
        }
        var v = (r0, r1, r2, r3, r4, r5, r6, r7)
        for _ in 0..<3 {
            let (a0, a4) = unzip(v.0, v.1), (a1, a5) = unzip(v.2, v.3)
            let (a2, a6) = unzip(v.4, v.5), (a3, a7) = unzip(v.6, v.7)
            v = (a0, a1, a2, a3, a4, a5, a6, a7)
        }
        return v
    }
}
