#if OpenBLAS
import COpenBLAS

/// The product computed by OpenBLAS's `cblas_sgemm`, then the epilogue row by row: a cross-check
/// of `SIMDGEMM`'s speed and results. Only in builds with the OpenBLAS trait
/// (`swift build --traits OpenBLAS`); OpenBLAS picks its own thread count (OPENBLAS_NUM_THREADS).
public final class BLASGEMM: GEMMKernel {
    public init() {}
    public var name: String { "openblas" }

    public func run(_ p: GEMMProblem) {
        guard p.m > 0, p.n > 0 else { return }
        cblas_sgemm(CblasRowMajor, p.transA ? CblasTrans : CblasNoTrans, p.transB ? CblasTrans : CblasNoTrans,
                    Int32(p.m), Int32(p.n), Int32(p.k), p.alpha, p.a, Int32(p.lda), p.b, Int32(p.ldb),
                    p.beta, p.c, Int32(p.ldc))
        if p.epilogue.bias != nil || p.epilogue.activation != nil {
            for i in 0..<p.m { p.epilogue.apply(row: p.c + i * p.ldc, column: 0, count: p.n) }
        }
    }
}
#endif
