/// The one matrix-multiply entry point of Digits.
///
/// Every layer multiplies through `GEMM.multiply`, which hands the problem to `GEMM.kernel`. The
/// kernel can be swapped (the plain reference kernel, the fast SIMD kernel, OpenBLAS) without
/// touching a layer, and tests check every kernel against the reference.
///
/// All matrices are row-major. The product computed is
///
///     C = alpha · op(A) · op(B) + beta · C,  then the epilogue, row by row,
///
/// where op(A) is (m, k) and op(B) is (k, n): A is stored (m, k), or (k, m) when `transA`;
/// B is stored (k, n), or (n, k) when `transB`.
public enum GEMM {
    /// The kernel every multiply goes through: the SIMD kernel, on as many threads as
    /// `SIMDGEMM.automatic()` finds worth using (results are the same for any count).
    nonisolated(unsafe) public static var kernel: any GEMMKernel = SIMDGEMM.automatic()

    /// C = alpha · op(A) · op(B) + beta · C, then `epilogue`.
    ///
    /// `denseA` is a hint that A (not transposed) has few zeros: a kernel may then read it in
    /// place rather than pack it and skip its all-zero k-steps (which pays for images). Without
    /// the hint the SIMD kernel finds out itself, from the first rows of A.
    @inlinable
    public static func multiply(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        epilogue: GEMMEpilogue = .none,
        denseA: Bool = false
    ) {
        var p = GEMMProblem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, epilogue: epilogue)
        p.denseA = denseA
        guard m > 0, n > 0 else { return }
        kernel.run(p)
    }
}

/// What is done to each finished row of C: a bias added, then an activation applied.
/// Fusing these into the multiply saves a pass over the output.
public struct GEMMEpilogue: @unchecked Sendable {
    /// A vector of `n` values added to every row of C, or nil.
    public var bias: UnsafePointer<Float>?
    /// An activation applied after the bias, or nil.
    public var activation: Activation?

    public init(bias: UnsafePointer<Float>? = nil, activation: Activation? = nil) {
        self.bias = bias
        self.activation = activation
    }

    /// Nothing: C is the product.
    public static let none = GEMMEpilogue()

    /// Applies the epilogue to `count` values of one row of C that start at column `column`.
    @inlinable
    public func apply(row: UnsafeMutablePointer<Float>, column: Int, count: Int) {
        if let bias {
            for j in 0..<count { row[j] += bias[column + j] }
        }
        if let activation {
            activation.forward(UnsafeMutablePointer(row), UnsafeMutablePointer(row), count)
        }
    }
}

/// One multiply, as handed to a kernel. See `GEMM`.
public struct GEMMProblem: @unchecked Sendable {
    public var transA: Bool, transB: Bool
    public var m: Int, n: Int, k: Int
    public var alpha: Float
    public var a: UnsafePointer<Float>, lda: Int
    public var b: UnsafePointer<Float>, ldb: Int
    public var beta: Float
    public var c: UnsafeMutablePointer<Float>, ldc: Int
    public var epilogue: GEMMEpilogue
    /// A hint from the caller: A has few zeros, so reading it in place beats packing it (see
    /// `GEMM.multiply`).
    public var denseA = false

    @inlinable
    public init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GEMMEpilogue) {
        self.transA = transA; self.transB = transB
        self.m = m; self.n = n; self.k = k; self.alpha = alpha
        self.a = a; self.lda = lda; self.b = b; self.ldb = ldb
        self.beta = beta; self.c = c; self.ldc = ldc; self.epilogue = epilogue
    }

    /// op(A)[i, p]
    @inlinable public func aAt(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    /// op(B)[p, j]
    @inlinable public func bAt(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }
}

/// A matrix-multiply implementation. See `GEMM`.
public protocol GEMMKernel: AnyObject, Sendable {
    /// A short name for reports, such as "reference" or "simd".
    var name: String { get }
    /// How many threads the kernel may use (the calling thread included). Layers split their
    /// own batch-parallel work across as many (see `Parallel`).
    var threads: Int { get }
    /// Computes the problem. Must agree with `ReferenceGEMM` up to float rounding.
    func run(_ p: GEMMProblem)
}

extension GEMMKernel {
    /// One thread, unless the kernel says otherwise.
    public var threads: Int { 1 }
}
