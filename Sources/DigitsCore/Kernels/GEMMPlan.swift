/// How `SIMDGEMM` computes one product, decided once, before any arithmetic, by
/// `GEMMPlan(for:threads:minFlopsPerThread:)`. Every decision here changes only the speed: each
/// value of C is the same sum, in the same order, whatever the plan.
struct GEMMPlan {
    /// The product as computed: the caller's, or its transpose when `storesTransposed`.
    var problem: GEMMProblem
    /// Too small to repay packing: the direct path (`SmallGEMM`) computes it.
    var direct: Bool
    /// Computed as Cᵀ = op(B)ᵀ · op(A)ᵀ, each register tile stored transposed, so that C itself
    /// comes out (see `transposes`).
    var storesTransposed: Bool
    /// The A operand is read where it is, rather than packed (which skips its all-zero k-steps).
    var readsAInPlace: Bool
    /// op(B)'s whole panels are read where they are, rather than packed.
    var readsBInPlace: Bool
    /// How many parts the product is split into, one a thread (1: not split).
    var parts: Int
    /// Whether the parts are bands of rows of C (else bands of columns).
    var splitsRows: Bool
    /// How many whole panels (of `mr` rows or `nr` columns) the parts share out.
    var panels: Int
    /// The kernel for wide register tiles, if any (`SIMDGEMM.wideTiles`).
    var wideTiles: WideTileKernel? = nil

    /// The plan for `problem` on `threads` threads, splitting only products of at least
    /// `minFlopsPerThread` flops a part.
    init(for problem: GEMMProblem, threads: Int, minFlopsPerThread: Int) {
        direct = Self.isSmall(problem)
        storesTransposed = !direct && Self.transposes(problem)
        let p = storesTransposed ? problem.transposed() : problem
        self.problem = p
        // Decided once for the whole product, so that every thread's share reads A the same way
        // (skipping a zero k-step differs from multiplying it where B holds an infinity).
        readsAInPlace = !direct && !p.transA && (p.denseA || Self.isDense(p))
        readsBInPlace = !p.transB && p.m <= Self.fewRows
        splitsRows = !readsAInPlace && (readsBInPlace || p.m > p.n)
        panels = splitsRows ? (p.m + SIMDGEMM.mr - 1) / SIMDGEMM.mr : (p.n + SIMDGEMM.nr - 1) / SIMDGEMM.nr
        parts = direct ? 1 : min(threads, panels, max(1, 2 * p.m * p.n * p.k / minFlopsPerThread))
    }

    /// The plan of the packed algorithm for `problem` as it is: no transposition, no split, A
    /// read in place only when the caller says it is dense (for tests of the blocked loops).
    static func blockedAsIs(_ problem: GEMMProblem) -> GEMMPlan {
        var plan = GEMMPlan(for: problem, threads: 1, minFlopsPerThread: Int.max)
        plan.problem = problem
        plan.direct = false
        plan.storesTransposed = false
        plan.readsAInPlace = !problem.transA && problem.denseA
        plan.readsBInPlace = !problem.transB && problem.m <= fewRows
        return plan
    }

    // MARK: - The rules and their constants

    /// Products of at most this many rows of C read a non-transposed B in place (its panels are
    /// not copied): too few rows share each panel to repay packing it. Also the most rows a
    /// product computed transposed may have.
    static let fewRows = 96
    /// Below this many multiply-adds (m·n·k), packing costs more than it saves.
    static let smallProduct = 16_384
    /// The fraction of k-steps of A's first row panel that must hold a nonzero value for A to be
    /// read in place: hidden activations pass; images, mostly background zeros, do not, and are
    /// packed, which skips their zero k-steps.
    static let denseFraction = (kept: 9, of: 10)
    /// The fewest columns of C a product computed transposed has: as many as the weights of a
    /// dense layer's input gradient.
    static let transposedMinColumns = 128

    /// Whether `p` is too small, or too thin, to repay packing: fewer than three rows, four
    /// k-steps or eight columns, or fewer than `smallProduct` multiply-adds.
    @inline(__always)
    static func isSmall(_ p: GEMMProblem) -> Bool { isSmall(m: p.m, n: p.n, k: p.k) }

    /// `isSmall` for a product of these dimensions.
    @inline(__always)
    static func isSmall(m: Int, n: Int, k: Int) -> Bool {
        m < 3 || k < 4 || n < 8 || m * n * k < smallProduct
    }

    /// Whether to compute `p` as Cᵀ = op(B)ᵀ · op(A)ᵀ: for a few rows times a transposed B (the
    /// input gradient dZ·Wᵀ of a dense layer at batch 64). Computed as it is, op(B) = Wᵀ must
    /// be packed (transposed) on every call, which few rows of C do not repay; computed
    /// transposed, W is read in place as the A operand, and only the small dZ is packed. Narrower
    /// products keep their form: a convolution's dW (9 or 25 rows of image patches times 16-64
    /// channels) would lose the zero-skipping of its patches, which only the A operand gets. Not
    /// with an epilogue, which works on rows of C.
    @inline(__always)
    static func transposes(_ p: GEMMProblem) -> Bool {
        p.transB && !p.transA && p.m <= fewRows && p.n >= 2 * p.m && p.n >= transposedMinColumns
            && p.epilogue.bias == nil && p.epilogue.activation == nil
    }

    /// Whether A (not transposed) is dense enough to read in place: whether its first row panel
    /// has a nonzero value in at least `denseFraction` of the first block's k-steps.
    static func isDense(_ p: GEMMProblem) -> Bool {
        guard p.m >= SIMDGEMM.mr else { return false }
        let kCount = min(p.k, SIMDGEMM.kc), lda = p.lda
        let s0 = p.a, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda
        var kept = 0, q = 0
        while q &+ 8 <= kCount {
            kept &+= SIMDGEMM.laneMask(SIMDGEMM.bits(load8(s0 + q)) | SIMDGEMM.bits(load8(s1 + q)) | SIMDGEMM.bits(load8(s2 + q))
                              | SIMDGEMM.bits(load8(s3 + q)) | SIMDGEMM.bits(load8(s4 + q)) | SIMDGEMM.bits(load8(s5 + q))).nonzeroBitCount
            q &+= 8
        }
        while q < kCount {
            let any = s0[q].bitPattern | s1[q].bitPattern | s2[q].bitPattern | s3[q].bitPattern | s4[q].bitPattern | s5[q].bitPattern
            kept &+= any & 0x7fff_ffff != 0 ? 1 : 0
            q &+= 1
        }
        return kept * denseFraction.of >= kCount * denseFraction.kept
    }
}
