@testable import DigitsCore
import DigitsAVX512
import Testing

/// The wide register tiles (`WideTileKernel`): the core's multiply with them gives the same bits
/// as without them, on every path of the blocked loops; the AVX-512 kernel gives the same bits as
/// its plain reference. Where the processor lacks AVX-512, the core's wide path is still run,
/// with the reference as its kernel.
@Suite struct WideTileTests {
    /// The wide kernels to try here: the plain reference, and AVX-512 when this machine has it.
    static let kernels: [(String, WideTileKernel)] = {
        var list: [(String, WideTileKernel)] = [("reference", referenceWideTiles)]
        if let avx512 = AVX512.wideTiles { list.append(("avx512", avx512)) }
        return list
    }()

    /// Shapes covering groups of 1-4 whole panels and a partial one, rows fewer than 6, inner
    /// dimensions past one packed block, B read in place (few rows) and C stored transposed
    /// (few rows times a transposed B).
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (6, 64, 48), (7, 16, 150), (13, 80, 33), (50, 200, 70), (96, 130, 40), (20, 112, 300), (120, 49, 24), (3, 785, 17),
    ]

    /// Expects the product of `p` with each wide kernel, on 1 and 2 threads, to equal the
    /// 8-lane kernel's bit for bit.
    func expectSameBits(_ p: GEMMTests.Case, _ label: String) {
        let plain = p.run(SIMDGEMM(threads: 1, wideTiles: nil))
        p.check(plain)
        for (name, kernel) in Self.kernels {
            for threads in [1, 2] {
                let wide = p.run(SIMDGEMM(threads: threads, minFlopsPerThread: 1, wideTiles: kernel))
                let same = wide.map(\.bitPattern) == plain.map(\.bitPattern)
                #expect(same,
                        "\(label), \(name) on \(threads) threads: not the 8-lane kernel's bits")
            }
        }
    }

    // A portable build (DIGITS_NO_FMA) multiplies and adds separately, so its 8-lane sums are not
    // the wide kernels' fused ones (and `AVX512.install()` refuses it).
    @Test("the same bits with wide tiles as without, every transpose, alpha, beta, bias and activation",
          .enabled(if: SIMDGEMM.fusesMultiplyAdd))
    func sameBits() {
        for (m, n, k) in Self.shapes {
            for (transA, transB) in GEMMTests.transposes {
                let p = GEMMTests.Case(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.5, beta: 0.5,
                                       bias: true, activation: .leakyReLU(alpha: 0.1))
                expectSameBits(p, "\(m)×\(n)×\(k) transA \(transA) transB \(transB)")
                let q = GEMMTests.Case(transA: transA, transB: transB, m: m, n: n, k: k)
                expectSameBits(q, "\(m)×\(n)×\(k) transA \(transA) transB \(transB), alpha 1, beta 0")
            }
        }
    }

    @Test("the same bits with wide tiles on mostly-zero A (skipped k-steps) and on A read in place",
          .enabled(if: SIMDGEMM.fusesMultiplyAdd), arguments: [Float(0.8), 0.97, 1])
    func sparseAndInPlace(zeroFraction: Float) {
        for (m, n, k) in Self.shapes {
            var p = GEMMTests.Case(transA: false, transB: false, m: m, n: n, k: k, bias: true,
                                   activation: .relu, zeroFraction: zeroFraction)
            expectSameBits(p, "\(m)×\(n)×\(k), zeros \(zeroFraction)")
            p.denseA = true
            expectSameBits(p, "\(m)×\(n)×\(k), zeros \(zeroFraction), read in place")
        }
    }

    @Test("a wide kernel one ulp off changes the product: the wide path is taken on every shape")
    func wrongKernelIsSeen() {
        for (m, n, k) in Self.shapes where n >= 16 {
            for (transA, transB) in GEMMTests.transposes {
                let p = GEMMTests.Case(transA: transA, transB: transB, m: m, n: n, k: k)
                // Computed transposed, C's columns are the m rows: fewer than a panel has no wide tile.
                let q = p.problem()
                if SIMDGEMM.transposesC(q) && m < SIMDGEMM.nr { continue }
                #expect(!SIMDGEMM.prefersDirect(q))
                let plain = p.run(SIMDGEMM(threads: 1, wideTiles: nil))
                let wrong = p.run(SIMDGEMM(threads: 1, wideTiles: offByOneULP))
                let same = wrong.map(\.bitPattern) == plain.map(\.bitPattern)
                #expect(!same, "\(m)×\(n)×\(k) transA \(transA) transB \(transB)")
            }
        }
    }

    @Test("the AVX-512 kernel gives its plain reference's bits, dense and with skipped k-steps, storing 1-6 rows of C",
          .enabled(if: AVX512.isAvailable), arguments: [1, 2, 3, 4], [1, 2, 3, 4, 5, 6])
    func avx512AgainstReference(panels: Int, rows: Int) throws {
        let avx512 = try #require(AVX512.wideTiles)
        var rng = RandomSource(seed: UInt64(panels))
        let count = 37, bStride = 16 * panels + 3, aRowStride = 41
        let a = (0..<(count * 1 + 6 * aRowStride)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<(2 * count * bStride)).map { _ in rng.uniform(-1, 1) }
        let indices = (0..<count).map { Int32(2 * $0 + 1) }
        let ldc = 16 * panels + 5
        let old = (0..<(6 * ldc)).map { _ in rng.uniform(-1, 1) }
        // The sums alone; then C finished with alpha and beta (`rows` of the 6 rows stored).
        for (dense, finish, alpha, beta) in [(Int32(1), false, Float(1), Float(0)), (0, false, 1, 0),
                                             (1, true, 1, 0), (0, true, 1.5, 0.5), (1, true, 1, 1)] {
            var got = [Float](repeating: .nan, count: 6 * 64), expected = got
            var gotC = old, expectedC = old
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    indices.withUnsafeBufferPointer { ip in
                        gotC.withUnsafeMutableBufferPointer { gc in
                            expectedC.withUnsafeMutableBufferPointer { ec in
                                avx512(count, dense, ap.baseAddress!, aRowStride, 1, ip.baseAddress!, bp.baseAddress!, bStride, 16,
                                       panels, &got, finish ? gc.baseAddress! : nil, ldc, rows, alpha, beta)
                                referenceWideTiles(count, dense, ap.baseAddress!, aRowStride, 1, ip.baseAddress!, bp.baseAddress!,
                                                   bStride, 16, panels, &expected, finish ? ec.baseAddress! : nil, ldc, rows, alpha, beta)
                            }
                        }
                    }
                }
            }
            #expect(gotC.map(\.bitPattern) == expectedC.map(\.bitPattern), "\(panels) panels, \(rows) rows, dense \(dense), C")
            #expect(!finish || gotC.prefix(rows * ldc) != old.prefix(rows * ldc), "C's rows stored")
            #expect(gotC.dropFirst(rows * ldc) == old.dropFirst(rows * ldc), "C's rows past `rows` untouched")
            #expect(finish || gotC == old, "C untouched without it")
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(panels) panels, dense \(dense), sums")
        }
    }
}

/// The reference wide kernel with its first value one ulp too large: a deliberately wrong kernel.
private let offByOneULP: WideTileKernel = {
    count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, panels, out, c, ldc, rows, alpha, beta in
    referenceWideTiles(count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, panels, out, c, ldc, rows, alpha, beta)
    if let c { c.pointee = c.pointee.nextUp } else { out.pointee = out.pointee.nextUp }
}
