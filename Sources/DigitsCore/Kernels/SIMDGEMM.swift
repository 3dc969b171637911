/// The fast matrix multiply: a register-blocked SIMD micro-kernel over packed panels, in the
/// manner of GotoBLAS/BLIS, written in plain Swift with `SIMD8<Float>` and fused multiply-add.
///
/// ## How it works
/// C is computed in tiles of `mr × nr` (6 × 16) values held in twelve 8-lane registers. For each
/// step p of the inner dimension, the micro-kernel loads 16 values of a row of op(B), broadcasts
/// 6 values of a column of op(A), and does 12 fused multiply-adds: 192 flops from 8 loads.
///
/// To keep those loads in cache and contiguous, operands are copied ("packed") first:
/// op(B) in blocks of `kc × nc`, as panels of 16 columns stored row after row; op(A) in blocks of
/// `mc × kc`, as panels of 6 rows stored column after column. Packing absorbs the transposes, so
/// the three products of a dense layer (X·W, Xᵀ·dZ, dZ·Wᵀ) all run the same micro-kernel.
///
/// ## Zero skipping
/// While packing op(A), a k-step whose 6 values are all zero is left out, and the micro-kernel
/// skips it. MNIST images are about 80% background, so the first layer's products (X·W and
/// Xᵀ·dZ) skip most of their work. This is exact: a skipped step would have added ±0 (it differs
/// from the dense sum only where op(B) holds an infinity or NaN, where a diverged run is anyway).
///
/// ## Small problems
/// Problems too small to repay packing (a single row, as in online SGD, or a tiny inner
/// dimension) go to a direct path that accumulates rows of C in registers, also skipping zeros.
///
/// ## Determinism
/// With `threads > 1` the columns of C are split into blocks of `nr`, each thread computing its
/// own. Every value of C is summed in the same order whatever the split, so results are
/// bit-identical for every thread count.
public struct SIMDGEMM: GEMMKernel {
    /// Rows of a register tile.
    public static let mr = 6
    /// Columns of a register tile (two 8-lane vectors).
    public static let nr = 16
    /// Inner-dimension block: a `kc × nr` panel of op(B) (16 KiB) stays in L1.
    static let kc = 256
    /// Rows of op(A) packed at once (a multiple of `mr`): `mc × kc` (120 KiB) stays in L2.
    static let mc = 120
    /// Columns of op(B) packed at once (a multiple of `nr`).
    static let nc = 1024

    /// How many threads a large multiply is split across (the caller's and `threads − 1` workers).
    public let threads: Int
    /// Problems of fewer flops than this run on the calling thread alone.
    public let minFlopsPerThread: Int

    /// - Parameters:
    ///   - threads: 1 runs everything on the calling thread; 2 or more split large products by
    ///     column blocks (results are the same bit for bit).
    ///   - minFlopsPerThread: the smallest share worth handing to another thread.
    public init(threads: Int = 1, minFlopsPerThread: Int = 2_000_000) {
        self.threads = max(1, threads)
        self.minFlopsPerThread = minFlopsPerThread
    }

    public var name: String { threads == 1 ? "simd" : "simd×\(threads)" }

    public func run(_ p: GEMMProblem) {
        guard p.m > 0, p.n > 0 else { return }
        if SIMDGEMM.prefersDirect(p) {
            SmallGEMM.run(p)
            return
        }
        let panels = (p.n + SIMDGEMM.nr - 1) / SIMDGEMM.nr
        let flops = 2 * p.m * p.n * p.k
        let parts = min(threads, panels, max(1, flops / minFlopsPerThread))
        if parts <= 1 {
            SIMDGEMM.blocked(p)
            return
        }
        WorkerPool.shared(threads: parts - 1).run(parts: parts) { part in
            // Column panels [lo, hi) of C for this part: an even split, in whole panels.
            let lo = panels * part / parts * SIMDGEMM.nr
            let hi = min(p.n, panels * (part + 1) / parts * SIMDGEMM.nr)
            if lo < hi { SIMDGEMM.blocked(p.columns(lo..<hi)) }
        }
    }

    /// Whether `p` is too small, or too thin, to repay packing.
    @inline(__always)
    static func prefersDirect(_ p: GEMMProblem) -> Bool {
        p.m < 3 || p.k < 4 || p.n < 8 || p.m * p.n * p.k < 16_384
    }

    // MARK: - The blocked algorithm

    /// C = alpha · op(A) · op(B) + beta · C, then the epilogue, by packed blocks.
    static func blocked(_ p: GEMMProblem) {
        let ws = GEMMWorkspace.current
        let m = p.m, n = p.n, k = p.k
        // Split k into equal blocks of at most `kc` (784 → 4 × 196, not 3 × 256 + 16).
        let kBlocks = (k + kc - 1) / kc
        let kcMax = (k + kBlocks - 1) / kBlocks
        let ncMax = min((n + nr - 1) / nr * nr, nc)
        let mcMax = min((m + mr - 1) / mr * mr, mc)
        ws.reserve(a: mcMax * kcMax, b: kcMax * ncMax)
        let packedA = ws.a, indices = ws.aIndex, counts = ws.aCounts, packedB = ws.b, tile = ws.tile
        let hasEpilogue = p.epilogue.bias != nil || p.epilogue.activation != nil

        var jc = 0
        while jc < n {
            let ncb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kcb = min(kcMax, k - pc)
                let beta: Float = pc == 0 ? p.beta : 1
                let last = pc + kcb == k
                packB(p, k: pc, kCount: kcb, column: jc, columnCount: ncb, into: packedB)
                var ic = 0
                while ic < m {
                    let mcb = min(mc, m - ic)
                    packA(p, row: ic, rowCount: mcb, k: pc, kCount: kcb, into: packedA, indices: indices, counts: counts)
                    var jr = 0
                    while jr < ncb {
                        let cols = min(nr, ncb - jr)
                        let bPanel = packedB + jr * kcb
                        let bias = last ? p.epilogue.bias.map { $0 + jc + jr } : nil
                        let activation = last ? p.epilogue.activation : nil
                        var ir = 0, panel = 0
                        while ir < mcb {
                            let rows = min(mr, mcb - ir)
                            let count = counts[panel]
                            // Nothing to add and nothing to apply: C stays as it is.
                            if count > 0 || beta != 1 || (last && hasEpilogue) {
                                microKernel(count: count, dense: count == kcb,
                                            a: packedA + panel * mr * kcb, indices: indices + panel * kcb,
                                            b: bPanel, c: p.c + (ic + ir) * p.ldc + jc + jr, ldc: p.ldc,
                                            rows: rows, cols: cols, alpha: p.alpha, beta: beta,
                                            bias: bias, activation: activation, tile: tile)
                            }
                            ir += mr; panel += 1
                        }
                        jr += nr
                    }
                    ic += mcb
                }
                pc += kcb
            }
            jc += ncb
        }
    }

    // MARK: - Packing

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
                        let s = UnsafeRawPointer(src + q * ldb)
                        let d = UnsafeMutableRawPointer(panel + q * nr)
                        d.storeBytes(of: s.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                        d.storeBytes(of: s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                                     toByteOffset: 32, as: SIMD8<Float>.self)
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
                let r0 = load8(s), r1 = load8(s + ld), r2 = load8(s + 2 * ld), r3 = load8(s + 3 * ld)
                let r4 = load8(s + 4 * ld), r5 = load8(s + 5 * ld), r6 = load8(s + 6 * ld), r7 = load8(s + 7 * ld)
                let d = dst + q * nr + half * 8
                for i in 0..<8 {
                    store8(SIMD8<Float>(r0[i], r1[i], r2[i], r3[i], r4[i], r5[i], r6[i], r7[i]), d + i * nr)
                }
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
    /// values are all zero. Panel i starts at `dst + i·mr·kCount`; `indices + i·kCount` holds the
    /// k-step of each kept column and `counts[i]` how many were kept.
    @inline(__always)
    static func packA(_ p: GEMMProblem, row i0: Int, rowCount: Int, k k0: Int, kCount: Int,
                      into dst: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                      counts: UnsafeMutablePointer<Int>) {
        let lda = p.lda
        var i = 0, panel = 0
        while i < rowCount {
            let rows = min(mr, rowCount - i)
            let d = dst + panel * mr * kCount, idx = indices + panel * kCount
            var kept = 0
            if p.transA {
                // op(A)[r, q] = a[q·lda + r]: the 6 values of a k-step are contiguous.
                let src = p.a + k0 * lda + i0 + i
                if rows == mr {
                    for q in 0..<kCount {
                        let s = src + q * lda
                        let x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5]
                        let out = d + kept * mr
                        out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3; out[4] = x4; out[5] = x5
                        idx[kept] = Int32(truncatingIfNeeded: q)
                        kept &+= anyNonzero(x0, x1, x2, x3, x4, x5)
                    }
                } else {
                    for q in 0..<kCount {
                        let s = src + q * lda, out = d + kept * mr
                        var bits: UInt32 = 0
                        for r in 0..<mr {
                            let x: Float = r < rows ? s[r] : 0
                            out[r] = x; bits |= x.bitPattern
                        }
                        idx[kept] = Int32(truncatingIfNeeded: q)
                        kept &+= bits & 0x7fff_ffff != 0 ? 1 : 0
                    }
                }
            } else {
                // op(A)[r, q] = a[r·lda + q]: gather one value from each of 6 rows.
                let src = p.a + (i0 + i) * lda + k0
                if rows == mr {
                    let s0 = src, s1 = src + lda, s2 = src + 2 * lda, s3 = src + 3 * lda, s4 = src + 4 * lda, s5 = src + 5 * lda
                    for q in 0..<kCount {
                        let x0 = s0[q], x1 = s1[q], x2 = s2[q], x3 = s3[q], x4 = s4[q], x5 = s5[q]
                        let out = d + kept * mr
                        out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3; out[4] = x4; out[5] = x5
                        idx[kept] = Int32(truncatingIfNeeded: q)
                        kept &+= anyNonzero(x0, x1, x2, x3, x4, x5)
                    }
                } else {
                    for q in 0..<kCount {
                        let out = d + kept * mr
                        var bits: UInt32 = 0
                        for r in 0..<mr {
                            let x: Float = r < rows ? src[r * lda + q] : 0
                            out[r] = x; bits |= x.bitPattern
                        }
                        idx[kept] = Int32(truncatingIfNeeded: q)
                        kept &+= bits & 0x7fff_ffff != 0 ? 1 : 0
                    }
                }
            }
            counts[panel] = kept
            i += mr; panel += 1
        }
    }

    /// 1 when any of six values is nonzero (±0 count as zero; NaN does not), else 0.
    @inline(__always)
    static func anyNonzero(_ x0: Float, _ x1: Float, _ x2: Float, _ x3: Float, _ x4: Float, _ x5: Float) -> Int {
        let bits = (x0.bitPattern | x1.bitPattern | x2.bitPattern | x3.bitPattern | x4.bitPattern | x5.bitPattern)
        return bits & 0x7fff_ffff != 0 ? 1 : 0
    }

    // MARK: - The micro-kernel

    /// One `mr × nr` tile: acc = Σ over the packed k-steps of a[:, q] ⊗ b[q, :]; then
    /// C[:rows, :cols] = alpha · acc + beta · C (C not read when beta is 0), then bias and
    /// activation when given.
    ///
    /// `dense` means the panel of A kept every k-step, so B is read straight through; otherwise
    /// `indices` says which row of the B panel each packed A column pairs with.
    @inline(__always)
    static func microKernel(count: Int, dense: Bool,
                            a: UnsafePointer<Float>, indices: UnsafePointer<Int32>, b: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                            alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                            tile: UnsafeMutablePointer<Float>) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var ap = a
        if dense {
            var bp = b
            for _ in 0..<count {
                let b0 = loadAligned8(bp), b1 = loadAligned8(bp + 8)
                var x = SIMD8<Float>(repeating: ap[0])
                c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[1])
                c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[2])
                c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[3])
                c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[4])
                c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[5])
                c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
                ap += mr; bp += nr
            }
        } else {
            for q in 0..<count {
                let bp = b + Int(indices[q]) &* nr
                let b0 = loadAligned8(bp), b1 = loadAligned8(bp + 8)
                var x = SIMD8<Float>(repeating: ap[0])
                c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[1])
                c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[2])
                c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[3])
                c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[4])
                c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = SIMD8<Float>(repeating: ap[5])
                c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
                ap += mr
            }
        }

        if cols == nr {
            // Whole rows of 16: finish them in registers.
            storeRow(c00, c01, c, alpha: alpha, beta: beta, bias: bias, activation: activation)
            if rows > 1 { storeRow(c10, c11, c + ldc, alpha: alpha, beta: beta, bias: bias, activation: activation) }
            if rows > 2 { storeRow(c20, c21, c + 2 * ldc, alpha: alpha, beta: beta, bias: bias, activation: activation) }
            if rows > 3 { storeRow(c30, c31, c + 3 * ldc, alpha: alpha, beta: beta, bias: bias, activation: activation) }
            if rows > 4 { storeRow(c40, c41, c + 4 * ldc, alpha: alpha, beta: beta, bias: bias, activation: activation) }
            if rows > 5 { storeRow(c50, c51, c + 5 * ldc, alpha: alpha, beta: beta, bias: bias, activation: activation) }
        } else {
            // The right edge of C: spill the registers, then finish the valid part value by value.
            store8(c00, tile); store8(c01, tile + 8)
            store8(c10, tile + 16); store8(c11, tile + 24)
            store8(c20, tile + 32); store8(c21, tile + 40)
            store8(c30, tile + 48); store8(c31, tile + 56)
            store8(c40, tile + 64); store8(c41, tile + 72)
            store8(c50, tile + 80); store8(c51, tile + 88)
            for r in 0..<rows {
                let row = c + r * ldc, t = tile + r * nr
                for j in 0..<cols {
                    var v = alpha * t[j]
                    if beta != 0 { v = v.addingProduct(beta, row[j]) }
                    if let bias { v += bias[j] }
                    row[j] = v
                }
                if let activation { activation.forward(row, row, cols) }
            }
        }
    }

    /// Finishes 16 values of a row of C from two accumulators.
    @inline(__always)
    static func storeRow(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>,
                         alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?) {
        var x0 = v0, x1 = v1
        if alpha != 1 { x0 *= alpha; x1 *= alpha }
        if beta != 0 {
            x0 = x0.addingProduct(beta, load8(row)); x1 = x1.addingProduct(beta, load8(row + 8))
        }
        if let bias { x0 += load8(bias); x1 += load8(bias + 8) }
        switch activation {
        case nil:
            break
        case .relu?:
            x0.replace(with: 0, where: x0 .< 0); x1.replace(with: 0, where: x1 .< 0)
        case .leakyReLU(let slope)?:
            x0.replace(with: x0 * slope, where: x0 .< 0); x1.replace(with: x1 * slope, where: x1 .< 0)
        case let other?:
            store8(x0, row); store8(x1, row + 8)
            other.forward(row, row, nr)
            return
        }
        store8(x0, row); store8(x1, row + 8)
    }
}

// MARK: - Vector loads and stores

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// A load from a 32-byte aligned address (the packed panels).
@inline(__always)
func loadAligned8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).load(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

extension GEMMProblem {
    /// The same product restricted to the columns `range` of C (and of op(B), and of the bias).
    func columns(_ range: Range<Int>) -> GEMMProblem {
        var q = self
        q.n = range.count
        q.b = transB ? b + range.lowerBound * ldb : b + range.lowerBound
        q.c = c + range.lowerBound
        q.epilogue.bias = epilogue.bias.map { $0 + range.lowerBound }
        return q
    }
}
