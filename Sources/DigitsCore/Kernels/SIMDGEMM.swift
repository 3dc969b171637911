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
/// product (`GEMMPlan.isDense`).
///
/// ## Few rows times a transposed B
/// The input gradient dZ·Wᵀ at batch 64 would pack all of Wᵀ for 64 rows of C. It is computed
/// as Cᵀ = W·dZᵀ instead: W the A operand (read in place when the probe finds it dense, as
/// weights are), the small dZ packed, each tile stored transposed (`GEMMPlan.transposes`).
///
/// ## One plan per product
/// Every choice above, and how the product is shared between threads, is made once, before the
/// arithmetic, into a `GEMMPlan`, with its thresholds named there; the loops only follow it.
///
/// ## Small problems
/// Problems too small to repay packing (a single row, as in online SGD, or a tiny inner
/// dimension) go to a direct path that accumulates rows of C in registers, also skipping zeros.
///
/// ## Determinism
/// With `threads > 1` the columns of C are split into blocks of `nr`, or its rows into blocks of
/// `mr` (whichever packs less twice, see `GEMMPlan.splitsRows`), each thread computing its own. Every
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
    /// The default `minFlopsPerThread`: 2 MFLOP.
    public static let defaultMinFlopsPerThread = 2_000_000
    /// Two threads are used when together they reach this many times one thread's FMA rate.
    static let twoThreadSpeedup = 1.5

    /// - Parameters:
    ///   - threads: 1 runs everything on the calling thread; 2 or more split large products by
    ///     column blocks (results are the same bit for bit).
    ///   - minFlopsPerThread: the smallest share worth handing to another thread. The default,
    ///     `defaultMinFlopsPerThread`, splits every product of a 784-256-128-10 network at batch
    ///     64 but the last layer's (chosen by measurement: BENCHMARKS.md, "Measurements behind choices in the code").
    ///   - wideTiles: a kernel for wider register tiles (AVX-512), or nil for the core's own
    ///     (the same results either way; see `WideTileKernel`).
    public init(threads: Int = 1, minFlopsPerThread: Int = SIMDGEMM.defaultMinFlopsPerThread,
                wideTiles: WideTileKernel? = SIMDGEMM.defaultWideTiles) {
        self.threads = max(1, threads)
        self.minFlopsPerThread = minFlopsPerThread
        self.wideTiles = wideTiles
    }

    /// The wide-tile kernel this multiply uses for whole column panels, or nil.
    public let wideTiles: WideTileKernel?

    public var name: String { (threads == 1 ? "simd" : "simd×\(threads)") + (wideTiles == nil ? "" : "+wide") }

    /// Whether `automatic()` has run: `GEMM.kernel` has been made (any use of it makes it, with
    /// its thread measurement), so `AVX512.install()` knows whether there is one to replace.
    nonisolated(unsafe) public static var hasMadeAutomaticKernel = false

    /// The kernel on the number of threads that pays on this machine: `DIGITS_THREADS` if set;
    /// otherwise 2 when the machine has two logical CPUs or more and two threads together
    /// reach at least 1.5 times one thread's FMA throughput (a 10 ms measurement, made up to four
    /// times, with pauses between, before settling on one thread), else 1.
    ///
    /// Two logical CPUs may be two cores or two hyperthreads of one core sharing its FMA units;
    /// only in the first case does splitting a multiply gain anything, so it is measured.
    public static func automatic() -> SIMDGEMM {
        hasMadeAutomaticKernel = true
        #if os(Linux)
        if let text = getenv("DIGITS_THREADS"), let n = Int(String(cString: text)), n >= 1 {
            return SIMDGEMM(threads: n)
        }
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return SIMDGEMM(threads: 1) }
        // Start the worker and let it run a few jobs first: a worker that has just been
        // created may not be scheduled for a few milliseconds, and meanwhile the calling thread
        // runs every part itself, which would measure two threads as one.
        _ = FMAPeak.measure(threads: 2, repeats: 10, iterations: 100_000)
        // Best of 20 short samples each (about 10 ms in all), taken in turns so that a moment
        // of contention from another program falls on both alike. A verdict of one thread is
        // measured again, up to three more times after pauses of 10, 20 and 40 ms: a new thread
        // may start on the caller's CPU and run after it rather than beside it until the
        // scheduler moves it, and a neighbour may be busy for the whole of one try.
        for attempt in 0..<4 {
            if attempt > 0 { usleep(UInt32(10_000 << (attempt - 1))) }
            var one = 0.0, two = 0.0
            for _ in 0..<20 {
                one = max(one, FMAPeak.measure(threads: 1, repeats: 1, iterations: 100_000))
                two = max(two, FMAPeak.measure(threads: 2, repeats: 1, iterations: 100_000))
            }
            if two >= twoThreadSpeedup * one { return SIMDGEMM(threads: 2) }
        }
        return SIMDGEMM(threads: 1)
        #else
        return SIMDGEMM(threads: 1)
        #endif
    }

    public func run(_ problem: GEMMProblem) {
        guard problem.m > 0, problem.n > 0 else { return }
        var plan = GEMMPlan(for: problem, threads: threads, minFlopsPerThread: minFlopsPerThread)
        plan.wideTiles = wideTiles
        SIMDGEMM.run(plan)
    }

    /// Carries out `plan`: the direct path, the blocked loops, or the blocked loops on each part
    /// of the split, on the worker threads.
    static func run(_ plan: GEMMPlan) {
        if plan.direct {
            SmallGEMM.run(plan.problem)
            return
        }
        // Inside a part of a parallel job (a convolution's slice), the other thread is busy.
        let pool = plan.parts > 1 ? WorkerPool.shared(threads: plan.parts - 1) : nil
        guard let pool, !pool.isBusy else {
            blocked(plan.problem, plan)
            return
        }
        var split = plan
        withUnsafePointer(to: &split) {
            pool.run(parts: plan.parts, context: UnsafeRawPointer($0), plan.splitsRows ? rowSplitPart : columnSplitPart)
        }
    }

    /// The blocked loops on `p` as it is (no transposition, no split; A packed unless the caller
    /// said it is dense), for tests.
    static func blocked(_ p: GEMMProblem, wideTiles: WideTileKernel? = nil) {
        var plan = GEMMPlan.blockedAsIs(p)
        plan.wideTiles = wideTiles
        blocked(p, plan)
    }

    /// Whether `p` is too small to repay packing (`GEMMPlan.isSmall`).
    static func prefersDirect(_ p: GEMMProblem) -> Bool { GEMMPlan.isSmall(p) }

    /// Whether `p` is computed transposed (`GEMMPlan.transposes`).
    static func transposesC(_ p: GEMMProblem) -> Bool { GEMMPlan.transposes(p) }

    // MARK: - The blocked algorithm

    /// C = alpha · op(A) · op(B) + beta · C, then the epilogue, by packed blocks.
    ///
    /// Loops, outermost first: columns of C in blocks of `nc`; k in equal blocks of at most `kc`
    /// (op(B) packed here when it must be transposed); rows in blocks of `mc` (op(A) packed);
    /// then a row panel of `mr`, and along it the column panels of `nr`, so that C is written
    /// row segment after row segment and the A panel stays in L1.
    static func blocked(_ p: GEMMProblem, _ plan: GEMMPlan) {
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
        let wideOut = ws.tile + mr * nr
        let hasEpilogue = p.epilogue.bias != nil || p.epilogue.activation != nil
        let inPlaceB = plan.readsBInPlace, inPlaceA = plan.readsAInPlace, transposedC = plan.storesTransposed

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
                        let cRow = transposedC ? p.c + jc * p.ldc + ic + ir : p.c + (ic + ir) * p.ldc + jc
                        let cPanelStep = transposedC ? nr * p.ldc : nr
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
                                if let wide = plan.wideTiles, cols == nr {
                                    // Up to four whole panels of the same kind (in place, or packed) at once.
                                    let end = inPlace ? fullPanels * nr : (inPlaceB ? jr + nr : ncb / nr * nr)
                                    let panels = min(widePanels, (end - jr) / nr)
                                    wideTiles(wide, panels: panels, count: count, dense: count == kcb, a: a,
                                              aRowStride: aRowStride, aStep: aStep, indices: indices,
                                              b: bPanel, bStride: bStride, bPanelStride: inPlace ? nr : nr * kcb,
                                              c: cRow + jr / nr * cPanelStep, ldc: p.ldc, cPanelStep: cPanelStep,
                                              transposedC: transposedC, rows: rows, alpha: p.alpha, beta: beta,
                                              bias: bias.map { $0 + jr }, activation: activation, out: wideOut, tile: tile)
                                    jr += panels * nr
                                    continue
                                }
                                if cols <= 8 {
                                    microKernel8(count: count, dense: count == kcb, a: a, aRowStride: aRowStride, aStep: aStep,
                                                 indices: indices, b: bPanel, bStride: bStride,
                                                 c: cRow + jr / nr * cPanelStep, ldc: p.ldc, transposedC: transposedC,
                                                 rows: rows, cols: cols, alpha: p.alpha, beta: beta,
                                                 bias: bias.map { $0 + jr }, activation: activation, tile: tile)
                                } else {
                                    microKernel(count: count, dense: count == kcb, a: a, aRowStride: aRowStride, aStep: aStep,
                                                indices: indices, b: bPanel, bStride: bStride,
                                                c: cRow + jr / nr * cPanelStep, ldc: p.ldc, transposedC: transposedC,
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

extension GEMMPlan {
    /// Part `part`'s share of `count` rows or columns: an even share of the whole panels (of
    /// `panel` rows or columns each).
    func range(_ part: Int, panel: Int, count: Int) -> Range<Int> {
        let lo = panels * part / parts * panel
        return lo ..< min(count, panels * (part + 1) / parts * panel)
    }
}

/// Part `part` of the `GEMMPlan` at `context`, by columns of C.
private func columnSplitPart(_ context: UnsafeRawPointer, _ part: Int) {
    let plan = context.assumingMemoryBound(to: GEMMPlan.self).pointee
    let range = plan.range(part, panel: SIMDGEMM.nr, count: plan.problem.n)
    if !range.isEmpty { SIMDGEMM.blocked(plan.problem.columns(range, transposedC: plan.storesTransposed), plan) }
}

/// Part `part` of the `GEMMPlan` at `context`, by rows of C.
private func rowSplitPart(_ context: UnsafeRawPointer, _ part: Int) {
    let plan = context.assumingMemoryBound(to: GEMMPlan.self).pointee
    let range = plan.range(part, panel: SIMDGEMM.mr, count: plan.problem.m)
    if !range.isEmpty { SIMDGEMM.blocked(plan.problem.rows(range, transposedC: plan.storesTransposed), plan) }
}

extension GEMMProblem {
    /// The same product computed as Cᵀ = op(B)ᵀ · op(A)ᵀ: op(B)ᵀ is B read the other way, and
    /// the result is stored transposed, so C itself comes out. Only without an epilogue.
    func transposed() -> GEMMProblem {
        // op(B) becomes the A operand: whether to read it in place is the plan's probe to decide.
        GEMMProblem(transA: !transB, transB: !transA, m: n, n: m, k: k, alpha: alpha,
                    a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc, epilogue: .none)
    }

    /// The same product restricted to the rows `range` of C (and of op(A)); C stored
    /// transposed when `transposedC`.
    func rows(_ range: Range<Int>, transposedC: Bool) -> GEMMProblem {
        var q = self
        q.m = range.count
        q.a = transA ? a + range.lowerBound : a + range.lowerBound * lda
        q.c = transposedC ? c + range.lowerBound : c + range.lowerBound * ldc
        return q
    }

    /// The same product restricted to the columns `range` of C (and of op(B), and of the bias);
    /// C stored transposed when `transposedC`.
    func columns(_ range: Range<Int>, transposedC: Bool) -> GEMMProblem {
        var q = self
        q.n = range.count
        q.b = transB ? b + range.lowerBound * ldb : b + range.lowerBound
        q.c = transposedC ? c + range.lowerBound * ldc : c + range.lowerBound
        q.epilogue.bias = epilogue.bias.map { $0 + range.lowerBound }
        return q
    }
}
