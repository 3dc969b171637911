#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// Where there is little to skip (hidden activations, weights), packing costs more than it saves:
/// a non-transposed A is then read in place. A probe of the first row panel decides, once per
/// product (`probeIsDense`).
///
/// ## Few rows times a transposed B
/// The input gradient dZ·Wᵀ at batch 64 would pack all of Wᵀ for 64 rows of C. It is computed
/// as Cᵀ = W·dZᵀ instead: W read in place, the small dZ packed, each tile stored transposed.
///
/// ## Small problems
/// Problems too small to repay packing (a single row, as in online SGD, or a tiny inner
/// dimension) go to a direct path that accumulates rows of C in registers, also skipping zeros.
///
/// ## Determinism
/// With `threads > 1` the columns of C are split into blocks of `nr`, or its rows into blocks of
/// `mr` (whichever packs less twice, see `splitsRows`), each thread computing its own. Every
/// value of C is summed in the same order whatever the split, so results are bit-identical for
/// every thread count.
public struct SIMDGEMM: GEMMKernel {
    /// Rows of a register tile.
    public static let mr = 6
    /// Columns of a register tile (two 8-lane vectors).
    public static let nr = 16
    /// Inner-dimension block: a `kc × nr` panel of op(B) (16 KiB) stays in L1.
    static let kc = 256
    /// Rows of op(A) packed at once (a multiple of `mr`): `mc × kc` (120 KiB) stays in L2.
    static let mc = 120
    /// Columns of C per outer block (a multiple of `nr`): `kc × nc` of op(B) (256 KiB) stays in L2.
    static let nc = 256

    /// How many threads a large multiply is split across (the caller's and `threads − 1` workers).
    public let threads: Int
    /// Problems of fewer flops than this run on the calling thread alone.
    public let minFlopsPerThread: Int

    /// - Parameters:
    ///   - threads: 1 runs everything on the calling thread; 2 or more split large products by
    ///     column blocks (results are the same bit for bit).
    ///   - minFlopsPerThread: the smallest share worth handing to another thread. 2 MFLOP splits
    ///     every product of a 784-256-128-10 network at batch 64 but the last layer's: measured
    ///     on two cores, an epoch at batch 64 takes 0.43-0.47 s this way and 0.49-0.60 s when
    ///     only the first layer's products (25.7 MFLOP) are split; 1 MFLOP is slower again.
    public init(threads: Int = 1, minFlopsPerThread: Int = 2_000_000) {
        self.threads = max(1, threads)
        self.minFlopsPerThread = minFlopsPerThread
    }

    public var name: String { threads == 1 ? "simd" : "simd×\(threads)" }

    /// The kernel on the number of threads that pays on this machine: `DIGITS_THREADS` if set;
    /// otherwise 2 when the machine has two logical CPUs or more and two threads together
    /// reach at least 1.5 times one thread's FMA throughput (a 10 ms measurement), else 1.
    ///
    /// Two logical CPUs may be two cores or two hyperthreads of one core sharing its FMA units;
    /// only in the first case does splitting a multiply gain anything, so it is measured.
    public static func automatic() -> SIMDGEMM {
        if let text = getenv("DIGITS_THREADS"), let n = Int(String(cString: text)), n >= 1 {
            return SIMDGEMM(threads: n)
        }
        #if os(Linux)
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return SIMDGEMM(threads: 1) }
        // Start the worker and let it run a few jobs first: a worker that has just been
        // created may not be scheduled for a few milliseconds, and meanwhile the calling thread
        // runs every part itself, which would measure two threads as one.
        _ = FMAPeak.measure(threads: 2, repeats: 10, iterations: 100_000)
        // Best of 20 short samples each (about 10 ms in all), so that a moment of contention
        // from another program does not decide.
        let one = FMAPeak.measure(threads: 1, repeats: 20, iterations: 100_000)
        let two = FMAPeak.measure(threads: 2, repeats: 20, iterations: 100_000)
        return SIMDGEMM(threads: two >= 1.5 * one ? 2 : 1)
        #else
        return SIMDGEMM(threads: 1)
        #endif
    }

    public func run(_ problem: GEMMProblem) {
        guard problem.m > 0, problem.n > 0 else { return }
        if SIMDGEMM.prefersDirect(problem) {
            SmallGEMM.run(problem)
            return
        }
        var p = SIMDGEMM.transposesC(problem) ? problem.transposed() : problem
        if !p.transA && !p.denseA && !p.sparseA {
            // Decided once for the whole product, so that every thread's share reads A the same
            // way (skipping a zero k-step differs from multiplying it where B holds an infinity).
            if SIMDGEMM.probeIsDense(p) { p.denseA = true } else { p.sparseA = true }
        }
        let byRows = SIMDGEMM.splitsRows(p)
        let panels = byRows ? (p.m + SIMDGEMM.mr - 1) / SIMDGEMM.mr : (p.n + SIMDGEMM.nr - 1) / SIMDGEMM.nr
        let flops = 2 * p.m * p.n * p.k
        let parts = min(threads, panels, max(1, flops / minFlopsPerThread))
        // Inside a part of a parallel job (a convolution's slice), the other thread is busy.
        if parts <= 1 || WorkerPool.shared(threads: parts - 1).isBusy {
            SIMDGEMM.blocked(p)
            return
        }
        var split = Split(problem: p, panels: panels, parts: parts)
        let pool = WorkerPool.shared(threads: parts - 1)
        withUnsafePointer(to: &split) {
            pool.run(parts: parts, context: UnsafeRawPointer($0), byRows ? rowSplitPart : columnSplitPart)
        }
    }

    /// Whether a product shared between threads is split by rows of C rather than columns.
    ///
    /// Each part packs what it needs of the operands: split by columns, every part packs all of
    /// op(A); split by rows, all of op(B). So rows when op(A) is packed (transposed, or not
    /// known to be dense) and op(B) is not, or is the smaller: the first layer's X·W at batch 64
    /// (images packed to skip their zeros, W read in place) and Xᵀ·dZ (784 rows against 256
    /// columns). The split changes no sum: results are the same bits either way.
    @inline(__always)
    static func splitsRows(_ p: GEMMProblem) -> Bool {
        let packsA = p.transA || !p.denseA
        let packsB = p.transB || p.m > 96
        return packsA && (!packsB || p.m > p.n)
    }

    /// Whether to compute `p` as Cᵀ = op(B)ᵀ · op(A)ᵀ: for a few rows times a transposed B
    /// (the input gradient dZ·Wᵀ of a dense layer at batch 64). Computed as it is, op(B) = Wᵀ
    /// must be packed (transposed) on every call, which 64 rows of C do not repay; computed
    /// transposed, W is read in place as the A operand, and only the small dZ is packed. Each
    /// value of C is the same sum, in the same order, either way. Narrower products keep their
    /// form: a convolution's dW (9 or 25 rows of image patches times 16-64 channels) would lose
    /// the zero-skipping of its patches, which only the A operand gets.
    @inline(__always)
    static func transposesC(_ p: GEMMProblem) -> Bool {
        p.transB && !p.transA && !p.transposedC && p.m <= 96 && p.n >= 2 * p.m && p.n >= 128
            && p.epilogue.bias == nil && p.epilogue.activation == nil
    }

    /// Whether A (not transposed) is dense enough to read in place: whether the first row panel
    /// has a nonzero value in at least 90% of the first block's k-steps. Hidden activations are;
    /// images, whose background is zero, are not, and are packed, which skips their zero k-steps.
    static func probeIsDense(_ p: GEMMProblem) -> Bool {
        guard p.m >= mr else { return false }
        let kCount = min(p.k, kc), lda = p.lda
        let s0 = p.a, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda
        var kept = 0, q = 0
        while q &+ 8 <= kCount {
            kept &+= laneMask(bits(load8(s0 + q)) | bits(load8(s1 + q)) | bits(load8(s2 + q))
                              | bits(load8(s3 + q)) | bits(load8(s4 + q)) | bits(load8(s5 + q))).nonzeroBitCount
            q &+= 8
        }
        while q < kCount {
            let any = s0[q].bitPattern | s1[q].bitPattern | s2[q].bitPattern | s3[q].bitPattern | s4[q].bitPattern | s5[q].bitPattern
            kept &+= any & 0x7fff_ffff != 0 ? 1 : 0
            q &+= 1
        }
        return kept * 10 >= kCount * 9
    }

    /// Whether `p` is too small, or too thin, to repay packing.
    @inline(__always)
    static func prefersDirect(_ p: GEMMProblem) -> Bool {
        p.m < 3 || p.k < 4 || p.n < 8 || p.m * p.n * p.k < 16_384
    }

    // MARK: - The blocked algorithm

    /// C = alpha · op(A) · op(B) + beta · C, then the epilogue, by packed blocks.
    ///
    /// Loops, outermost first: columns of C in blocks of `nc`; k in equal blocks of at most `kc`
    /// (op(B) packed here when it must be transposed); rows in blocks of `mc` (op(A) packed);
    /// then a row panel of `mr`, and along it the column panels of `nr`, so that C is written
    /// row segment after row segment and the A panel stays in L1.
    static func blocked(_ p: GEMMProblem) {
        let ws = GEMMWorkspace.current
        let m = p.m, n = p.n, k = p.k
        // Split k into equal blocks of at most `kc` (784 → 4 × 196, not 3 × 256 + 16).
        let kBlocks = (k + kc - 1) / kc
        let kcMax = (k + kBlocks - 1) / kBlocks
        // Likewise n, in blocks of whole panels: 784 → 208 + 208 + 208 + 160.
        let nBlocks = (n + nc - 1) / nc
        let ncMax = ((n + nBlocks - 1) / nBlocks + nr - 1) / nr * nr
        let mcMax = min((m + mr - 1) / mr * mr, mc)
        ws.reserve(a: mcMax / mr * panelStrideA(kcMax), b: kcMax * ncMax)
        let packedA = ws.a, indices = ws.aIndex, counts = ws.aCounts, packedB = ws.b, tile = ws.tile
        let hasEpilogue = p.epilogue.bias != nil || p.epilogue.activation != nil
        // Measured on the training shapes: reading B in place wins at batch 64, packing at 256.
        let inPlaceB = !p.transB && m <= 96
        // A dense A is read in place: no packing, but no zero k-steps skipped (packing would cost
        // more than the few skipped steps save). Dense when the caller says so or `run`'s probe
        // finds it so (hidden activations).
        let inPlaceA = !p.transA && p.denseA

        var jc = 0
        while jc < n {
            let ncb = min(ncMax, n - jc)
            var pc = 0
            while pc < k {
                let kcb = min(kcMax, k - pc)
                let beta: Float = pc == 0 ? p.beta : 1
                let last = pc + kcb == k
                let bias = last ? p.epilogue.bias.map { $0 + jc } : nil
                let activation = last ? p.epilogue.activation : nil
                // op(B)'s panels are packed when B must be transposed, or when enough rows of C
                // share them to repay the copy; otherwise they are read in place (and only the
                // rows a sparse A needs are touched), except a last, partial panel, which is
                // packed and padded with zeros.
                let fullPanels = inPlaceB ? ncb / nr : 0
                if !inPlaceB {
                    packB(p, k: pc, kCount: kcb, column: jc, columnCount: ncb, into: packedB)
                } else if fullPanels * nr < ncb {
                    packB(p, k: pc, kCount: kcb, column: jc + fullPanels * nr, columnCount: ncb - fullPanels * nr, into: packedB)
                }
                var ic = 0
                while ic < m {
                    let mcb = min(mc, m - ic)
                    if !inPlaceA {
                        packA(p, row: ic, rowCount: mcb, k: pc, kCount: kcb, into: packedA, indices: indices, counts: counts)
                    }
                    var ir = 0, panel = 0
                    while ir < mcb {
                        let rows = min(mr, mcb - ir)
                        // Where C[ic + ir, jc] is, and the step to the next column panel.
                        let cRow = p.transposedC ? p.c + jc * p.ldc + ic + ir : p.c + (ic + ir) * p.ldc + jc
                        let cPanelStep = p.transposedC ? nr * p.ldc : nr
                        @inline(__always) func panelTimesB(count: Int, a: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
                                                           aRowStride: Int, aStep: Int) {
                            // Nothing to add and nothing to apply: this row panel of C stays as it is.
                            guard count > 0 || beta != 1 || (last && hasEpilogue) else { return }
                            var jr = 0
                            while jr < ncb {
                                let inPlace = jr < fullPanels * nr
                                let cols = min(nr, ncb - jr)
                                let bPanel = inPlace ? p.b + pc * p.ldb + jc + jr : UnsafePointer(packedB) + (inPlaceB ? 0 : jr * kcb)
                                let bStride = inPlace ? p.ldb : nr
                                if cols <= 8 {
                                    microKernel8(count: count, dense: count == kcb, a: a, aRowStride: aRowStride, aStep: aStep,
                                                 indices: indices, b: bPanel, bStride: bStride,
                                                 c: cRow + jr / nr * cPanelStep, ldc: p.ldc, transposedC: p.transposedC,
                                                 rows: rows, cols: cols, alpha: p.alpha, beta: beta,
                                                 bias: bias.map { $0 + jr }, activation: activation, tile: tile)
                                } else {
                                    microKernel(count: count, dense: count == kcb, a: a, aRowStride: aRowStride, aStep: aStep,
                                                indices: indices, b: bPanel, bStride: bStride,
                                                c: cRow + jr / nr * cPanelStep, ldc: p.ldc, transposedC: p.transposedC,
                                                rows: rows, cols: cols, alpha: p.alpha, beta: beta,
                                                bias: bias.map { $0 + jr }, activation: activation, tile: tile)
                                }
                                jr += nr
                            }
                        }
                        if inPlaceA && rows == mr {
                            // A's six rows read where they are: row r of the panel at a + r·lda.
                            panelTimesB(count: kcb, a: p.a + (ic + ir) * p.lda + pc, indices: indices,
                                        aRowStride: p.lda, aStep: 1)
                        } else if inPlaceA {
                            // A last panel of fewer rows: packed alone, padded with zeros.
                            packA(p, row: ic + ir, rowCount: rows, k: pc, kCount: kcb, into: packedA, indices: indices, counts: counts)
                            panelTimesB(count: counts[0], a: packedA, indices: indices, aRowStride: 1, aStep: mr)
                        } else {
                            panelTimesB(count: counts[panel], a: packedA + panel * panelStrideA(kcb), indices: indices + panel * kcb,
                                        aRowStride: 1, aStep: mr)
                        }
                        ir += mr; panel += 1
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

    // MARK: - The micro-kernel

    /// One `mr × nr` tile: acc = Σ over the packed k-steps of a[:, q] ⊗ b[q, :]; then
    /// C[:rows, :cols] = alpha · acc + beta · C (C not read when beta is 0), then bias and
    /// activation when given.
    ///
    /// `dense` means the panel of A kept every k-step, so B is read straight through; otherwise
    /// `indices` says which row of B each packed A column pairs with. Row q of the B panel starts
    /// at `b + q·bStride` (16 for a packed panel, ldb when read in place).
    @inline(__always)
    static func microKernel(count: Int, dense: Bool,
                            a: UnsafePointer<Float>, aRowStride: Int, aStep: Int, indices: UnsafePointer<Int32>,
                            b: UnsafePointer<Float>, bStride: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, transposedC: Bool, rows: Int, cols: Int,
                            alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                            tile: UnsafeMutablePointer<Float>) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var ap = a
        @inline(__always) func step(_ bp: UnsafePointer<Float>) {
            let b0 = load8(bp), b1 = load8(bp + 8)
            var x = SIMD8<Float>(repeating: ap[0])
            c00 = madd(c00, x, b0); c01 = madd(c01, x, b1)
            x = SIMD8<Float>(repeating: ap[aRowStride])
            c10 = madd(c10, x, b0); c11 = madd(c11, x, b1)
            x = SIMD8<Float>(repeating: ap[2 &* aRowStride])
            c20 = madd(c20, x, b0); c21 = madd(c21, x, b1)
            x = SIMD8<Float>(repeating: ap[3 &* aRowStride])
            c30 = madd(c30, x, b0); c31 = madd(c31, x, b1)
            x = SIMD8<Float>(repeating: ap[4 &* aRowStride])
            c40 = madd(c40, x, b0); c41 = madd(c41, x, b1)
            x = SIMD8<Float>(repeating: ap[5 &* aRowStride])
            c50 = madd(c50, x, b0); c51 = madd(c51, x, b1)
            ap += aStep
        }
        if dense {
            // Two k-steps a turn: half the loop's bookkeeping beside its 24 multiply-adds.
            var bp = b, q = 0
            while q &+ 2 <= count { step(bp); step(bp + bStride); bp += 2 &* bStride; q &+= 2 }
            if q < count { step(bp) }
        } else {
            for q in 0..<count { step(b + Int(indices[q]) &* bStride) }
        }

        if transposedC && rows == mr && cols == nr {
            // C is stored transposed: column j of the tile is a run of six values of C's row j.
            // Transposed in registers (two 8 × 8 transposes, rows 6 and 7 zero), then stored as
            // four values and two.
            if alpha != 1 {
                c00 *= alpha; c10 *= alpha; c20 *= alpha; c30 *= alpha; c40 *= alpha; c50 *= alpha
                c01 *= alpha; c11 *= alpha; c21 *= alpha; c31 *= alpha; c41 *= alpha; c51 *= alpha
            }
            let zero = SIMD8<Float>()
            let t = transpose8(c00, c10, c20, c30, c40, c50, zero, zero)
            let u = transpose8(c01, c11, c21, c31, c41, c51, zero, zero)
            @inline(__always) func store(_ v: SIMD8<Float>, _ j: Int) {
                let row = c + j &* ldc
                UnsafeMutableRawPointer(row).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(row + 4).storeBytes(of: v.highHalf.lowHalf, as: SIMD2<Float>.self)
            }
            @inline(__always) func add(_ v: SIMD8<Float>, _ j: Int) {
                let row = c + j &* ldc
                let lo = madd(v.lowHalf, beta, UnsafeRawPointer(row).loadUnaligned(as: SIMD4<Float>.self))
                let hi = madd(v.highHalf.lowHalf, beta, UnsafeRawPointer(row + 4).loadUnaligned(as: SIMD2<Float>.self))
                UnsafeMutableRawPointer(row).storeBytes(of: lo, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(row + 4).storeBytes(of: hi, as: SIMD2<Float>.self)
            }
            if beta == 0 {
                store(t.0, 0); store(t.1, 1); store(t.2, 2); store(t.3, 3); store(t.4, 4); store(t.5, 5); store(t.6, 6); store(t.7, 7)
                store(u.0, 8); store(u.1, 9); store(u.2, 10); store(u.3, 11); store(u.4, 12); store(u.5, 13); store(u.6, 14); store(u.7, 15)
            } else {
                add(t.0, 0); add(t.1, 1); add(t.2, 2); add(t.3, 3); add(t.4, 4); add(t.5, 5); add(t.6, 6); add(t.7, 7)
                add(u.0, 8); add(u.1, 9); add(u.2, 10); add(u.3, 11); add(u.4, 12); add(u.5, 13); add(u.6, 14); add(u.7, 15)
            }
        } else if transposedC || cols < nr {
            // An edge tile: spill the registers, then finish the valid part value by value.
            store8(c00, tile); store8(c01, tile + 8)
            store8(c10, tile + 16); store8(c11, tile + 24)
            store8(c20, tile + 32); store8(c21, tile + 40)
            store8(c30, tile + 48); store8(c31, tile + 56)
            store8(c40, tile + 64); store8(c41, tile + 72)
            store8(c50, tile + 80); store8(c51, tile + 88)
            finishEdge(tile, c: c, ldc: ldc, transposedC: transposedC, rows: rows, cols: cols,
                       alpha: alpha, beta: beta, bias: bias, activation: activation)
        } else {
            // Whole rows of 16: finish them in registers.
            @inline(__always) func finish(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>) {
                var x0 = v0, x1 = v1
                if alpha != 1 { x0 *= alpha; x1 *= alpha }
                if beta != 0 { x0 = madd(x0, beta, load8(row)); x1 = madd(x1, beta, load8(row + 8)) }
                store8(x0, row); store8(x1, row + 8)
            }
            finish(c00, c01, c)
            if rows > 1 { finish(c10, c11, c + ldc) }
            if rows > 2 { finish(c20, c21, c + 2 * ldc) }
            if rows > 3 { finish(c30, c31, c + 3 * ldc) }
            if rows > 4 { finish(c40, c41, c + 4 * ldc) }
            if rows > 5 { finish(c50, c51, c + 5 * ldc) }
            if bias != nil || activation != nil {
                for r in 0..<rows { epilogue16(c + r * ldc, bias: bias, activation: activation) }
            }
        }
    }

    /// One `mr × 8` tile, for a last panel of at most 8 columns (784-40 and 784-50 networks):
    /// the same sums as `microKernel`, in the same order, with half the multiply-adds.
    @inline(__always)
    static func microKernel8(count: Int, dense: Bool,
                             a: UnsafePointer<Float>, aRowStride: Int, aStep: Int, indices: UnsafePointer<Int32>,
                             b: UnsafePointer<Float>, bStride: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, transposedC: Bool, rows: Int, cols: Int,
                             alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                             tile: UnsafeMutablePointer<Float>) {
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
        var ap = a
        @inline(__always) func step(_ bp: UnsafePointer<Float>) {
            let b0 = load8(bp)
            c0 = madd(c0, SIMD8<Float>(repeating: ap[0]), b0)
            c1 = madd(c1, SIMD8<Float>(repeating: ap[aRowStride]), b0)
            c2 = madd(c2, SIMD8<Float>(repeating: ap[2 &* aRowStride]), b0)
            c3 = madd(c3, SIMD8<Float>(repeating: ap[3 &* aRowStride]), b0)
            c4 = madd(c4, SIMD8<Float>(repeating: ap[4 &* aRowStride]), b0)
            c5 = madd(c5, SIMD8<Float>(repeating: ap[5 &* aRowStride]), b0)
            ap += aStep
        }
        if dense {
            var bp = b, q = 0
            while q &+ 2 <= count { step(bp); step(bp + bStride); bp += 2 &* bStride; q &+= 2 }
            if q < count { step(bp) }
        } else {
            for q in 0..<count { step(b + Int(indices[q]) &* bStride) }
        }
        store8(c0, tile); store8(c1, tile + 16); store8(c2, tile + 32)
        store8(c3, tile + 48); store8(c4, tile + 64); store8(c5, tile + 80)
        finishEdge(tile, c: c, ldc: ldc, transposedC: transposedC, rows: rows, cols: cols,
                   alpha: alpha, beta: beta, bias: bias, activation: activation)
    }

    /// Finishes an edge tile spilled to `tile` (row r at `tile + r·nr`): C = alpha · tile +
    /// beta · C, then bias and activation, for its valid `rows × cols` part (transposed: value
    /// (r, j) at `c + j·ldc + r`, and no epilogue).
    @inline(never)
    static func finishEdge(_ tile: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                           transposedC: Bool, rows: Int, cols: Int, alpha: Float, beta: Float,
                           bias: UnsafePointer<Float>?, activation: Activation?) {
        if transposedC {
            for j in 0..<cols {
                let row = c + j * ldc
                for r in 0..<rows {
                    var v = alpha * tile[r * nr + j]
                    if beta != 0 { v = madd(v, beta, row[r]) }
                    row[r] = v
                }
            }
            return
        }
        for r in 0..<rows {
            let row = c + r * ldc, t = tile + r * nr
            var j = 0
            if cols >= 8 {
                // The first eight values as one vector (the same operations as value by value).
                var v = load8(t)
                if alpha != 1 { v *= alpha }
                if beta != 0 { v = madd(v, beta, load8(row)) }
                if let bias { v += load8(bias) }
                store8(v, row)
                j = 8
            }
            while j < cols {
                var v = alpha * t[j]
                if beta != 0 { v = madd(v, beta, row[j]) }
                if let bias { v += bias[j] }
                row[j] = v
                j += 1
            }
            if let activation { activation.forward(row, row, cols) }
        }
    }

    /// Adds the bias to 16 finished values of a row of C and applies the activation.
    @inline(never)
    static func epilogue16(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation?) {
        var x0 = load8(row), x1 = load8(row + 8)
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

// MARK: - Multiply-add

// c + a·b, fused (one rounding) where the build targets FMA hardware: x86-64-v3 or arm64. A
// portable x86-64 build (`DIGITS_PORTABLE=1`, which defines DIGITS_NO_FMA) multiplies and adds
// separately instead, since without the instruction a fused multiply-add is a slow library call
// per lane.

@inline(__always)
func madd(_ c: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd(_ c: SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd<V: SIMD>(_ c: V, _ a: Float, _ b: V) -> V where V.Scalar == Float {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd(_ c: Float, _ a: Float, _ b: Float) -> Float {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
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

/// A product split into `parts` parts of whole panels of C: panels of `nr` columns, or of `mr`
/// rows.
struct Split {
    var problem: GEMMProblem
    var panels: Int
    var parts: Int

    /// Part `part`'s share of `count` rows or columns: an even share of the whole panels.
    func range(_ part: Int, panel: Int, count: Int) -> Range<Int> {
        let lo = panels * part / parts * panel
        return lo ..< min(count, panels * (part + 1) / parts * panel)
    }
}

/// Part `part` of the `Split` at `context`, by columns of C.
private func columnSplitPart(_ context: UnsafeRawPointer, _ part: Int) {
    let split = context.assumingMemoryBound(to: Split.self).pointee
    let range = split.range(part, panel: SIMDGEMM.nr, count: split.problem.n)
    if !range.isEmpty { SIMDGEMM.blocked(split.problem.columns(range)) }
}

/// Part `part` of the `Split` at `context`, by rows of C.
private func rowSplitPart(_ context: UnsafeRawPointer, _ part: Int) {
    let split = context.assumingMemoryBound(to: Split.self).pointee
    let range = split.range(part, panel: SIMDGEMM.mr, count: split.problem.m)
    if !range.isEmpty { SIMDGEMM.blocked(split.problem.rows(range)) }
}

extension GEMMProblem {
    /// The same product computed as Cᵀ = op(B)ᵀ · op(A)ᵀ: op(B)ᵀ is B read the other way, and
    /// the result is stored transposed, so C itself comes out. Only without an epilogue.
    func transposed() -> GEMMProblem {
        var q = GEMMProblem(transA: !transB, transB: !transA, m: n, n: m, k: k, alpha: alpha,
                            a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc, epilogue: .none)
        q.transposedC = !transposedC
        // The weights are dense: read them in place.
        q.denseA = true
        return q
    }

    /// The same product restricted to the rows `range` of C (and of op(A)).
    func rows(_ range: Range<Int>) -> GEMMProblem {
        var q = self
        q.m = range.count
        q.a = transA ? a + range.lowerBound : a + range.lowerBound * lda
        q.c = transposedC ? c + range.lowerBound : c + range.lowerBound * ldc
        return q
    }

    /// The same product restricted to the columns `range` of C (and of op(B), and of the bias).
    func columns(_ range: Range<Int>) -> GEMMProblem {
        var q = self
        q.n = range.count
        q.b = transB ? b + range.lowerBound * ldb : b + range.lowerBound
        q.c = transposedC ? c + range.lowerBound * ldc : c + range.lowerBound
        q.epilogue.bias = epilogue.bias.map { $0 + range.lowerBound }
        return q
    }
}
