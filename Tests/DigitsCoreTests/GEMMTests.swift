@testable import DigitsCore
import Testing
#if OpenBLAS
import DigitsBLAS
#endif

/// The fast kernel against the reference, on shapes that exercise every path: single rows and
/// columns, odd sizes that leave partial register tiles, inner dimensions longer than one packed
/// block, every transpose, alpha and beta, and each fused epilogue.
@Suite struct GEMMTests {
    // MARK: - Harness

    /// Matrices for one product, stored with padded leading dimensions whose padding is NaN, so
    /// that a kernel reading past a row would poison its result.
    struct Case {
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var alpha: Float = 1, beta: Float = 0
        var a: [Float], lda: Int
        var b: [Float], ldb: Int
        var c: [Float], ldc: Int
        var bias: [Float]?
        var activation: Activation?
        /// The hint that A is dense: a non-transposed A is then read in place, not packed.
        var denseA = false

        init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
             bias: Bool = false, activation: Activation? = nil, zeroFraction: Float = 0, seed: UInt64 = 1) {
            var rng = RandomSource(seed: seed &+ UInt64(m * 1_000_003 + n * 1009 + k))
            self.transA = transA; self.transB = transB
            self.m = m; self.n = n; self.k = k; self.alpha = alpha; self.beta = beta
            let (aRows, aCols) = transA ? (k, m) : (m, k)
            let (bRows, bCols) = transB ? (n, k) : (k, n)
            lda = aCols + 3; ldb = bCols + 5; ldc = n + 2
            func matrix(_ rows: Int, _ cols: Int, _ ld: Int, zeros: Float) -> [Float] {
                var v = [Float](repeating: .nan, count: rows * ld)
                for r in 0..<rows {
                    for c in 0..<cols { v[r * ld + c] = rng.nextUnit() < zeros ? 0 : rng.uniform(-1, 1) }
                }
                return v
            }
            a = matrix(aRows, aCols, lda, zeros: zeroFraction)
            b = matrix(bRows, bCols, ldb, zeros: 0)
            // With beta 0, C's old values must be ignored, NaN included.
            c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : matrix(m, n, ldc, zeros: 0)
            self.bias = bias ? (0..<n).map { _ in rng.uniform(-1, 1) } : nil
            self.activation = activation
        }

        /// C after the product computed by `kernel`.
        func run(_ kernel: any GEMMKernel) -> [Float] {
            run { kernel.run($0) }
        }

        /// The problem, with pointers valid only for a first look (such as `SIMDGEMM.transposesC`).
        func problem() -> GEMMProblem {
            var captured: GEMMProblem?
            _ = run { captured = $0 }
            return captured!
        }

        /// C after `multiply` has computed the product.
        func run(_ multiply: (GEMMProblem) -> Void) -> [Float] {
            var out = c
            let bias = self.bias ?? []
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    bias.withUnsafeBufferPointer { biasp in
                        out.withUnsafeMutableBufferPointer { cp in
                            let e = GEMMEpilogue(bias: self.bias == nil ? nil : biasp.baseAddress, activation: activation)
                            var p = GEMMProblem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                                a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                                beta: beta, c: cp.baseAddress!, ldc: ldc, epilogue: e)
                            p.denseA = denseA
                            multiply(p)
                        }
                    }
                }
            }
            return out
        }

        /// Σ_q |op(A)[i, q]| · |op(B)[q, j]|: the scale of the rounding error of C[i, j].
        func magnitude(_ i: Int, _ j: Int) -> Float {
            var s: Float = 0
            for q in 0..<k {
                let x = transA ? a[q * lda + i] : a[i * lda + q]
                let y = transB ? b[j * ldb + q] : b[q * ldb + j]
                s += abs(x * y)
            }
            return s
        }

        /// Expects `got` to match the reference within float rounding of a k-term sum (every
        /// activation is 1-Lipschitz, so the bound survives the epilogue), and the padding of C
        /// to be untouched.
        func check(_ got: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
            let expected = run(ReferenceGEMM())
            var bad = 0, first = ""
            for i in 0..<m {
                for j in 0..<n {
                    let g = got[i * ldc + j], e = expected[i * ldc + j]
                    let old = beta == 0 ? 0 : abs(beta * c[i * ldc + j])
                    let tolerance = Float(2 * k + 8) * Float.ulpOfOne * (abs(alpha) * magnitude(i, j) + old + 1)
                    if !(abs(g - e) <= tolerance) {
                        bad += 1
                        if first.isEmpty { first = "C[\(i), \(j)] = \(g), reference \(e), tolerance \(tolerance)" }
                    }
                }
                for j in n..<ldc where !(got[i * ldc + j].bitPattern == c[i * ldc + j].bitPattern) {
                    bad += 1
                    if first.isEmpty { first = "padding C[\(i), \(j)] was written" }
                }
            }
            #expect(bad == 0, "\(m)×\(n)×\(k) transA \(transA) transB \(transB): \(bad) bad values; first: \(first)",
                    sourceLocation: sourceLocation)
        }
    }

    static let sizes = [1, 3, 10, 17, 33, 127, 785]
    static let transposes: [(Bool, Bool)] = [(false, false), (true, false), (false, true), (true, true)]

    /// Every (m, n, k) from `sizes` of at most a million multiply-adds (311 shapes), each with
    /// one transpose combination (taking turns), plus 127³ with all four.
    static let oddShapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = {
        var shapes: [(Int, Int, Int, Bool, Bool)] = []
        var turn = 0
        for m in sizes {
            for n in sizes {
                for k in sizes where m * n * k <= 1_000_000 {
                    let (tA, tB) = transposes[turn % 4]
                    shapes.append((m, n, k, tA, tB))
                    turn += 1
                }
            }
        }
        for (tA, tB) in transposes { shapes.append((127, 127, 127, tA, tB)) }
        return shapes
    }()

    // MARK: - Agreement with the reference

    @Test("sizes 1, 3, 10, 17, 33, 127, 785 in every combination up to a million multiply-adds, with every transpose")
    func oddSizes() {
        for s in Self.oddShapes {
            let p = Case(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k)
            p.check(p.run(SIMDGEMM()))
        }
    }

    @Test("A read in place (the dense-A hint): odd sizes, long and wide blocks, alpha, beta, epilogue")
    func denseAInPlace() {
        var shapes = Self.oddShapes.map { ($0.m, $0.n, $0.k) }
        shapes += [(33, 17, 785), (10, 33, 785), (785, 33, 17), (7, 1100, 10), (32, 320, 400), (400, 32, 320)]
        for (i, s) in shapes.enumerated() {
            var p = Case(transA: false, transB: i % 2 == 1, m: s.0, n: s.1, k: s.2, alpha: i % 3 == 0 ? 1 : 0.5,
                         beta: i % 4 == 0 ? 1 : 0, bias: i % 5 == 0, activation: i % 7 == 0 ? .relu : nil)
            p.denseA = true
            p.check(p.run(SIMDGEMM()))
        }
    }

    @Test("inner dimensions longer than one packed block (785, 600)", arguments: [(33, 17, 785), (17, 127, 600), (10, 33, 785)])
    func longInner(m: Int, n: Int, k: Int) {
        for (transA, transB) in Self.transposes {
            let p = Case(transA: transA, transB: transB, m: m, n: n, k: k)
            p.check(p.run(SIMDGEMM()))
        }
    }

    @Test("shapes wider and taller than one packed block (785 rows, 1100 columns)")
    func largeOuter() {
        for (transA, transB) in Self.transposes {
            let tall = Case(transA: transA, transB: transB, m: 785, n: 33, k: 17)
            tall.check(tall.run(SIMDGEMM()))
            let wide = Case(transA: transA, transB: transB, m: 7, n: 1100, k: 10)
            wide.check(wide.run(SIMDGEMM()))
        }
    }

    @Test("the training shapes of a 784-256-128-10 network at a small batch", arguments: [1, 8])
    func trainingShapes(batch: Int) {
        for (inputs, outputs) in [(784, 256), (256, 128), (128, 10)] {
            let forward = Case(transA: false, transB: false, m: batch, n: outputs, k: inputs, bias: true, activation: .relu)
            forward.check(forward.run(SIMDGEMM()))
            let dW = Case(transA: true, transB: false, m: inputs, n: outputs, k: batch, beta: 1)
            dW.check(dW.run(SIMDGEMM()))
            let dX = Case(transA: false, transB: true, m: batch, n: inputs, k: outputs)
            dX.check(dX.run(SIMDGEMM()))
        }
    }

    @Test("alpha and beta", arguments: [(Float(1), Float(1)), (0.5, 0), (-2, 0.25), (0, 1), (1.5, -1)])
    func alphaBeta(alpha: Float, beta: Float) {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(17, 33, 10), (1, 17, 33), (33, 3, 127), (40, 40, 300)] {
                let p = Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta)
                p.check(p.run(SIMDGEMM()))
            }
        }
    }

    @Test("fused bias and activation", arguments: [nil, Activation.relu, .leakyReLU(alpha: 0.2), .sigmoid, .tanh])
    func epilogues(activation: Activation?) {
        for bias in [false, true] {
            for (transA, transB) in Self.transposes {
                for (m, n, k) in [(1, 10, 17), (17, 33, 10), (12, 32, 300), (33, 127, 3), (2, 300, 50)] {
                    let p = Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75, beta: 0.5,
                                 bias: bias, activation: activation)
                    p.check(p.run(SIMDGEMM()))
                }
            }
        }
    }

    @Test("inputs mostly zero, as images are (the skipped k-steps)", arguments: [Float(0.8), 0.97, 1])
    func sparseInputs(zeroFraction: Float) {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(64, 48, 300), (300, 40, 64), (1, 16, 784), (785, 16, 1), (7, 48, 300), (126, 33, 600)] {
                for beta: Float in [0, 1] {
                    let p = Case(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta,
                                 bias: beta == 0, activation: beta == 0 ? .relu : nil, zeroFraction: zeroFraction)
                    p.check(p.run(SIMDGEMM()))
                }
            }
        }
    }

    @Test("few rows times a transposed B, computed as Cᵀ = B·op(A)ᵀ: the reference's values, the direct path's bits",
          arguments: [(6, 128, 80), (7, 129, 128), (17, 300, 256), (64, 785, 33), (96, 192, 300), (64, 256, 128)])
    func transposedC(m: Int, n: Int, k: Int) {
        for (alpha, beta): (Float, Float) in [(1, 0), (0.5, 1), (-2, 0.25)] {
            let p = Case(transA: false, transB: true, m: m, n: n, k: k, alpha: alpha, beta: beta)
            let problem = p.problem()
            #expect(SIMDGEMM.transposesC(problem) && !SIMDGEMM.prefersDirect(problem), "\(m)×\(n)×\(k) should be computed transposed")
            let viaTransposed = p.run(SIMDGEMM())
            p.check(viaTransposed)
            // The packed path without the transposition sums the same terms in the same order.
            let direct = p.run { SIMDGEMM.blocked($0) }
            #expect(direct.map(\.bitPattern) == viaTransposed.map(\.bitPattern), "\(m)×\(n)×\(k): not the direct path's bits")
            for threads in [2, 3] {
                let many = p.run(SIMDGEMM(threads: threads, minFlopsPerThread: 1))
                #expect(many.map(\.bitPattern) == viaTransposed.map(\.bitPattern), "\(threads) threads differ from one")
            }
        }
    }

    @Test("an empty inner dimension gives beta · C, then the epilogue")
    func emptyInner() {
        let p = Case(transA: false, transB: false, m: 5, n: 20, k: 0, alpha: 1, beta: 0.5, bias: true, activation: .relu)
        p.check(p.run(SIMDGEMM()))
    }

    @Test("the entry point uses the SIMD kernel by default")
    func defaultKernel() {
        #expect(GEMM.kernel is SIMDGEMM)
    }

    // MARK: - Determinism

    @Test("bit-identical results for 1, 2 and 3 threads", arguments: [(64, 256, 100), (150, 100, 40), (30, 300, 64), (50, 10, 128)])
    func threadCounts(m: Int, n: Int, k: Int) {
        for (transA, transB) in Self.transposes {
            let p = Case(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5, bias: true,
                         activation: .leakyReLU(alpha: 0.1), zeroFraction: 0.5)
            let one = p.run(SIMDGEMM(threads: 1))
            p.check(one)
            for threads in [2, 3] {
                let many = p.run(SIMDGEMM(threads: threads, minFlopsPerThread: 1))
                #expect(many.map(\.bitPattern) == one.map(\.bitPattern), "\(threads) threads differ from one")
            }
        }
    }

    @Test("A read in place or packed, decided once: the same bits on 1-3 threads when the first rows are dense and the rest sparse, or the reverse",
          arguments: [(64, 100, 128), (24, 256, 300), (130, 40, 200), (400, 270, 520)])
    func mixedDensity(m: Int, n: Int, k: Int) {
        for firstRowsDense in [true, false] {
            var p = Case(transA: false, transB: false, m: m, n: n, k: k, beta: 0.5)
            var rng = RandomSource(seed: UInt64(m + k))
            for i in 0..<m where (i < 6) != firstRowsDense {
                for q in 0..<k where rng.nextUnit() < 0.95 { p.a[i * p.lda + q] = 0 }
            }
            let one = p.run(SIMDGEMM())
            p.check(one)
            // A zero column of A against an infinity in B: multiplying it gives NaN, skipping it
            // does not, so every thread's share must make the same choice.
            for i in 0..<m { p.a[i * p.lda + 3] = 0 }
            p.b[3 * p.ldb] = .infinity
            let withInfinity = p.run(SIMDGEMM())
            for threads in [2, 3] {
                let many = p.run(SIMDGEMM(threads: threads, minFlopsPerThread: 1))
                #expect(many.map(\.bitPattern) == withInfinity.map(\.bitPattern),
                        "\(m)×\(n)×\(k), first rows dense \(firstRowsDense): \(threads) threads differ from one")
            }
        }
    }

    @Test("the same product twice gives the same bits")
    func repeatable() {
        let p = Case(transA: false, transB: false, m: 70, n: 90, k: 500, zeroFraction: 0.3)
        #expect(p.run(SIMDGEMM()).map(\.bitPattern) == p.run(SIMDGEMM()).map(\.bitPattern))
    }
}

#if OpenBLAS
/// OpenBLAS (the OpenBLAS trait) against the same reference: the cross-check kernel must agree
/// too, so that comparing speeds compares like with like.
@Suite struct BLASGEMMTests {
    @Test("OpenBLAS agrees with the reference", arguments: [(1, 17, 33), (17, 33, 127), (64, 48, 300), (33, 127, 10)])
    func agreement(m: Int, n: Int, k: Int) {
        for (transA, transB) in GEMMTests.transposes {
            let p = GEMMTests.Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, beta: 0.25,
                                   bias: true, activation: .relu)
            p.check(p.run(BLASGEMM()))
        }
    }
}
#endif
