import DigitsCore
import Testing

/// The reference kernel on a product small enough to check by hand:
///
///     A = [1 2 3]   B = [ 7  8]   A·B = [ 58  64]
///         [4 5 6]       [ 9 10]         [139 154]
///                       [11 12]
@Suite struct ReferenceGEMMTests {
    static let product: [Float] = [58, 64, 139, 154]

    /// A stored (2, 3), or Aᵀ stored (3, 2), with `pad` extra garbage columns per row.
    static func storedA(transposed: Bool, pad: Int) -> (values: [Float], ld: Int) {
        let rows: [[Float]] = transposed ? [[1, 4], [2, 5], [3, 6]] : [[1, 2, 3], [4, 5, 6]]
        return (rows.flatMap { $0 + Array(repeating: Float.nan, count: pad) }, rows[0].count + pad)
    }

    static func storedB(transposed: Bool, pad: Int) -> (values: [Float], ld: Int) {
        let rows: [[Float]] = transposed ? [[7, 9, 11], [8, 10, 12]] : [[7, 8], [9, 10], [11, 12]]
        return (rows.flatMap { $0 + Array(repeating: Float.nan, count: pad) }, rows[0].count + pad)
    }

    /// Runs the reference kernel into a (2, 3)-strided C whose third column must stay untouched; returns
    /// the 2×2 result and whether the padding survived.
    static func run(transA: Bool, transB: Bool, alpha: Float = 1, beta: Float = 0, c0: [Float] = [0, 0, 0, 0],
                    epilogue: (bias: [Float]?, activation: Activation?) = (nil, nil)) -> ([Float], Bool) {
        let a = storedA(transposed: transA, pad: 1), b = storedB(transposed: transB, pad: 2)
        var c: [Float] = [c0[0], c0[1], 99, c0[2], c0[3], 99]
        let bias = epilogue.bias ?? []
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasp in
                    c.withUnsafeMutableBufferPointer { cp in
                        let e = GEMMEpilogue(bias: epilogue.bias == nil ? nil : biasp.baseAddress, activation: epilogue.activation)
                        ReferenceGEMM().run(GEMMProblem(transA: transA, transB: transB, m: 2, n: 2, k: 3, alpha: alpha,
                                                        a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                                                        beta: beta, c: cp.baseAddress!, ldc: 3, epilogue: e))
                    }
                }
            }
        }
        return ([c[0], c[1], c[3], c[4]], c[2] == 99 && c[5] == 99)
    }

    @Test("A·B with every combination of transposes", arguments: [false, true], [false, true])
    func transposes(transA: Bool, transB: Bool) {
        let (c, untouched) = Self.run(transA: transA, transB: transB)
        #expect(c == Self.product)
        #expect(untouched, "columns beyond n are left alone")
    }

    @Test("alpha and beta: C = alpha·A·B + beta·C", arguments: [false, true], [false, true])
    func alphaBeta(transA: Bool, transB: Bool) {
        let (c, _) = Self.run(transA: transA, transB: transB, alpha: 0.5, beta: 2, c0: [1, 2, 3, 4])
        #expect(c == [31, 36, 75.5, 85])
    }

    @Test("beta = 0 ignores C, even NaN")
    func betaZero() {
        let (c, _) = Self.run(transA: false, transB: false, c0: [.nan, .nan, .infinity, -.infinity])
        #expect(c == Self.product)
    }

    @Test("Epilogue: bias then activation, after alpha and beta")
    func epilogue() {
        let bias: [Float] = [-60, -100]
        #expect(Self.run(transA: true, transB: false, epilogue: (bias, nil)).0 == [-2, -36, 79, 54])
        #expect(Self.run(transA: false, transB: true, epilogue: (bias, .relu)).0 == [0, 0, 79, 54])
        #expect(Self.run(transA: false, transB: false, epilogue: (bias, .leakyReLU(alpha: 0.5))).0 == [-1, -18, 79, 54])
        #expect(Self.run(transA: false, transB: false, alpha: 0.5, beta: 1, c0: [2, 0, 0, 0], epilogue: (bias, .relu)).0
                == [0, 0, 9.5, 0])
        let (s, _) = Self.run(transA: false, transB: false, epilogue: (nil, .sigmoid))
        #expect(s.allSatisfy { $0 > 0.999 && $0 <= 1 })
        #expect(ReferenceGEMM().name == "reference")
    }
}
