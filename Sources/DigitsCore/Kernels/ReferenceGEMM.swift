/// The plain, obviously correct matrix multiply: three loops, one dot product per output,
/// accumulated in `Double`. Slow; it is the yardstick the fast kernels are tested against.
public final class ReferenceGEMM: GEMMKernel {
    public init() {}
    public var name: String { "reference" }

    public func run(_ p: GEMMProblem) {
        for i in 0..<p.m {
            let row = p.c + i * p.ldc
            for j in 0..<p.n {
                var sum: Double = 0
                for q in 0..<p.k { sum += Double(p.aAt(i, q)) * Double(p.bAt(q, j)) }
                let old: Float = p.beta == 0 ? 0 : p.beta * row[j]   // beta 0 ignores C, even NaN
                row[j] = p.alpha * Float(sum) + old
            }
            p.epilogue.apply(row: row, column: 0, count: p.n)
        }
    }
}
