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
/// as Cᵀ = W·dZᵀ instead: W the A operand (read in place when the probe finds it dense, as
/// weights are), the small dZ packed, each tile stored transposed.
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
public final class SIMDGEMM: GEMMKernel {
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
        #if os(Linux)
        if let text = getenv("DIGITS_THREADS"), let n = Int(String(cString: text)), n >= 1 {
            return SIMDGEMM(threads: n)
        }
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
        guard parts > 1 else {
            SIMDGEMM.blocked(p)
            return
        }
        // Inside a part of a parallel job (a convolution's slice), the other thread is busy.
        let pool = WorkerPool.shared(threads: parts - 1)
        guard !pool.isBusy else {
            SIMDGEMM.blocked(p)
            return
        }
        var split = Split(problem: p, panels: panels, parts: parts)
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
        // op(B) becomes the A operand: whether to read it in place is the probe's to decide.
        q.denseA = false
        q.sparseA = false
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
