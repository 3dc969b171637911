@testable import DigitsCore
import Testing

/// The vectorised optimiser updates and input conversion give the plain loops' bits exactly.
@Suite struct DenseUpdateTests {
    /// Lengths around the eight-lane width, and a range that starts off a multiple of eight.
    static let ranges: [Range<Int>] = [0..<0, 0..<1, 0..<7, 0..<8, 0..<9, 0..<67, 3..<61]

    static func values(_ n: Int, _ rng: inout RandomSource, _ range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in rng.uniform(range.lowerBound, range.upperBound) }
    }

    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    @Test("plain SGD: the vector update equals the reference bit for bit", arguments: ranges)
    func sgd(range: Range<Int>) {
        var rng = RandomSource(seed: 1)
        let w0 = Self.values(70, &rng), g = Self.values(70, &rng)
        var fast = w0, reference = w0
        fast.withUnsafeMutableBufferPointer { DenseUpdate.sgd(w: $0.baseAddress!, g: g, lr: 0.05, range) }
        reference.withUnsafeMutableBufferPointer { DenseUpdate.sgdReference(w: $0.baseAddress!, g: g, lr: 0.05, range) }
        #expect(Self.bits(fast) == Self.bits(reference))
        #expect(range.isEmpty || fast != w0, "the weights moved")
    }

    @Test("momentum, classical and Nesterov: the vector update equals the reference bit for bit",
          arguments: ranges, [false, true])
    func momentum(range: Range<Int>, nesterov: Bool) {
        var rng = RandomSource(seed: 2)
        let w0 = Self.values(70, &rng), v0 = Self.values(70, &rng), g = Self.values(70, &rng)
        var w1 = w0, v1 = v0, w2 = w0, v2 = v0
        // Two steps, so that the velocity carried over matters.
        for _ in 0..<2 {
            w1.withUnsafeMutableBufferPointer { w in v1.withUnsafeMutableBufferPointer { v in
                DenseUpdate.momentum(w: w.baseAddress!, v: v.baseAddress!, g: g, mu: 0.9, lr: 0.05, nesterov: nesterov, range)
            } }
            w2.withUnsafeMutableBufferPointer { w in v2.withUnsafeMutableBufferPointer { v in
                DenseUpdate.momentumReference(w: w.baseAddress!, v: v.baseAddress!, g: g, mu: 0.9, lr: 0.05, nesterov: nesterov, range)
            } }
        }
        #expect(Self.bits(w1) == Self.bits(w2))
        #expect(Self.bits(v1) == Self.bits(v2))
        #expect(range.isEmpty || w1 != w0, "the weights moved")
    }

    @Test("Adam: the vector update equals the reference bit for bit", arguments: ranges, [Float(0), 0.01])
    func adam(range: Range<Int>, decay: Float) {
        var rng = RandomSource(seed: 3)
        let w0 = Self.values(70, &rng), g = Self.values(70, &rng)
        let m0 = Self.values(70, &rng), v0 = Self.values(70, &rng, 0...1)
        var w1 = w0, m1 = m0, v1 = v0, w2 = w0, m2 = m0, v2 = v0
        func step(_ w: inout [Float], _ m: inout [Float], _ v: inout [Float], reference: Bool) {
            w.withUnsafeMutableBufferPointer { w in m.withUnsafeMutableBufferPointer { m in v.withUnsafeMutableBufferPointer { v in
                let args = (w: w.baseAddress!, m: m.baseAddress!, v: v.baseAddress!)
                if reference {
                    DenseUpdate.adamReference(w: args.w, m: args.m, v: args.v, g: g, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                              stepSize: 0.01, invC2: 3.7, decay: decay, range)
                } else {
                    DenseUpdate.adam(w: args.w, m: args.m, v: args.v, g: g, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                     stepSize: 0.01, invC2: 3.7, decay: decay, range)
                }
            } } }
        }
        for _ in 0..<2 {
            step(&w1, &m1, &v1, reference: false)
            step(&w2, &m2, &v2, reference: true)
        }
        #expect(Self.bits(w1) == Self.bits(w2))
        #expect(Self.bits(m1) == Self.bits(m2))
        #expect(Self.bits(v1) == Self.bits(v2))
        #expect(range.isEmpty || w1 != w0, "the weights moved")
    }

    @Test("bytes to floats: the vector conversion equals the reference bit for bit",
          arguments: [0, 1, 7, 8, 9, 784, 785], [(Float(1) / 255, Float(0)), (1, 0), (0.5, -0.25)])
    func bytesToFloats(count: Int, transform: (Float, Float)) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        // One value more than converted: it must stay as it was.
        var fast = [Float](repeating: .nan, count: count + 1), reference = fast
        fast.withUnsafeMutableBufferPointer {
            VectorOps.bytesToFloats(bytes, $0.baseAddress!, count, scale: transform.0, offset: transform.1)
        }
        reference.withUnsafeMutableBufferPointer {
            VectorOps.bytesToFloatsReference(bytes, $0.baseAddress!, count, scale: transform.0, offset: transform.1)
        }
        #expect(Self.bits(fast) == Self.bits(reference))
        #expect(fast[count].isNaN, "nothing written past the end")
        #expect(count == 0 || reference.contains { $0 != 0 })
    }
}

/// Running averages never decay into the subnormal range: below 2⁻¹⁰⁰ they become zero.
@Suite struct DenseUpdateFlushTests {
    @Test("a velocity whose gradient stays zero decays to exactly zero, never through subnormals",
          arguments: [false, true])
    func velocityDecay(nesterov: Bool) {
        var w: [Float] = Array(repeating: 0.5, count: 11), v: [Float] = (0..<11).map { Float($0 - 5) * 1e-3 }
        let g = [Float](repeating: 0, count: 11)
        var sawZero = false
        for _ in 0..<2000 {
            w.withUnsafeMutableBufferPointer { w in v.withUnsafeMutableBufferPointer { v in
                DenseUpdate.momentum(w: w.baseAddress!, v: v.baseAddress!, g: g, mu: 0.9, lr: 0.05, nesterov: nesterov, 0..<11)
            } }
            #expect(v.allSatisfy { $0 == 0 || $0.isNormal }, "no subnormal velocity")
            #expect(v.allSatisfy { $0 == 0 || abs($0) >= DenseUpdate.flushBelow })
            sawZero = sawZero || v.allSatisfy { $0 == 0 }
        }
        #expect(sawZero, "every velocity reached zero")
        #expect(w.allSatisfy { $0.isNormal })
    }

    @Test("Adam's moments whose gradient stays zero decay to exactly zero, never through subnormals")
    func adamDecay() {
        var w: [Float] = Array(repeating: 0.5, count: 9), m: [Float] = Array(repeating: 1e-3, count: 9)
        var v: [Float] = Array(repeating: 1e-6, count: 9)
        let g = [Float](repeating: 0, count: 9)
        for _ in 0..<80_000 {
            w.withUnsafeMutableBufferPointer { w in m.withUnsafeMutableBufferPointer { m in v.withUnsafeMutableBufferPointer { v in
                DenseUpdate.adam(w: w.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, g: g, beta1: 0.9, beta2: 0.999,
                                 epsilon: 1e-8, stepSize: 1e-3, invC2: 1, decay: 0, 0..<9)
            } } }
        }
        #expect(m.allSatisfy { $0 == 0 } && v.allSatisfy { $0 == 0 })
    }
}

/// The flush of small running averages, at its threshold and at the values around it.
@Suite struct DenseUpdateFlushEdgeTests {
    static let edge = DenseUpdate.flushBelow
    /// ±2⁻¹⁰⁰, one ulp either side, subnormals, ±0, NaN, infinities and ordinary values.
    static let values: [Float] = [edge, -edge, edge.nextUp, edge.nextDown, (-edge).nextUp, (-edge).nextDown,
                                  .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 0, -0.0,
                                  .nan, .infinity, -.infinity, 1, -0.5]

    @Test("the eight-lane flush gives the scalar flush's bits on every edge value, and flushes exactly below 2⁻¹⁰⁰")
    func edges() {
        var lanes = Self.values
        while lanes.count % 8 != 0 { lanes.append(0) }
        for start in stride(from: 0, to: lanes.count, by: 8) {
            let v = SIMD8<Float>(lanes[start..<(start + 8)])
            let f = DenseUpdate.flushed(v)
            for i in 0..<8 {
                #expect(f[i].bitPattern == DenseUpdate.flushed(lanes[start + i]).bitPattern, "\(lanes[start + i])")
            }
        }
        #expect(DenseUpdate.flushed(Self.edge) == Self.edge && DenseUpdate.flushed(-Self.edge) == -Self.edge)
        #expect(DenseUpdate.flushed(Self.edge.nextDown) == 0 && DenseUpdate.flushed((-Self.edge).nextUp) == 0)
        #expect(DenseUpdate.flushed(Float.leastNonzeroMagnitude) == 0)
        #expect(DenseUpdate.flushed(Float.nan).isNaN && DenseUpdate.flushed(Float.infinity) == .infinity)
    }

    @Test("momentum keeps a velocity at the edge values as its reference does (μ = 1, no gradient)", arguments: [false, true])
    func momentumAtEdges(nesterov: Bool) {
        let n = Self.values.count
        let g = [Float](repeating: 0, count: n)
        var w1 = [Float](repeating: 0.5, count: n), v1 = Self.values, w2 = w1, v2 = Self.values
        w1.withUnsafeMutableBufferPointer { w in v1.withUnsafeMutableBufferPointer { v in
            DenseUpdate.momentum(w: w.baseAddress!, v: v.baseAddress!, g: g, mu: 1, lr: 0.05, nesterov: nesterov, 0..<n)
        } }
        w2.withUnsafeMutableBufferPointer { w in v2.withUnsafeMutableBufferPointer { v in
            DenseUpdate.momentumReference(w: w.baseAddress!, v: v.baseAddress!, g: g, mu: 1, lr: 0.05, nesterov: nesterov, 0..<n)
        } }
        #expect(w1.map(\.bitPattern) == w2.map(\.bitPattern))
        #expect(v1.map(\.bitPattern) == v2.map(\.bitPattern))
        #expect(v2[3] == 0 && v2[0] == Self.edge, "below 2⁻¹⁰⁰ flushed, at it kept")
    }
}
