import DigitsCore
import Foundation
import Testing

@Suite struct OptimizerTests {
    static func parameter(_ values: [Float], decays: Bool = true) -> Parameter {
        Parameter(name: "p", value: Tensor(shape: [values.count], values: values), decays: decays)
    }

    static func setGradient(_ p: Parameter, _ g: [Float]) {
        for (i, v) in g.enumerated() { p.grad.data[i] = v }
    }

    static let w0: [Float] = [1, -2, 0.5]
    static let g1: [Float] = [0.5, -1, 2]
    static let g2: [Float] = [-0.25, 3, 1]

    /// Runs two steps with gradients g1 then g2 and returns the weights after each, and whether
    /// the optimiser left the gradients as they were (zeroing them is the training step's job).
    static func twoSteps(_ opt: any Optimizer, lr: Float, decays: Bool = true) -> (first: [Float], second: [Float], untouched: Bool) {
        let p = parameter(w0, decays: decays)
        setGradient(p, g1)
        opt.step([p], lr: lr)
        let first = p.value.array
        var untouched = p.grad.array == g1
        setGradient(p, g2)
        opt.step([p], lr: lr)
        untouched = untouched && p.grad.array == g2
        return (first, p.value.array, untouched)
    }

    @Test("SGD: w −= lr · g")
    func sgd() {
        let (first, second, untouched) = Self.twoSteps(SGD(), lr: 0.1)
        let e1 = (0..<3).map { Self.w0[$0] - 0.1 * Self.g1[$0] }
        let e2 = (0..<3).map { e1[$0] - 0.1 * Self.g2[$0] }
        expectClose(first, e1, relative: 1e-6, absolute: 0, "step 1")
        expectClose(second, e2, relative: 1e-6, absolute: 0, "step 2")
        #expect(untouched, "the gradients are left as they were")
    }

    @Test("Momentum: v = μv + g; w −= lr · v")
    func momentum() {
        let mu: Float = 0.9, lr: Float = 0.1
        let (first, second, untouched) = Self.twoSteps(SGD(momentum: mu), lr: lr)
        let v1 = Self.g1
        let e1 = (0..<3).map { Self.w0[$0] - lr * v1[$0] }
        let v2 = (0..<3).map { mu * v1[$0] + Self.g2[$0] }
        let e2 = (0..<3).map { e1[$0] - lr * v2[$0] }
        expectClose(first, e1, relative: 1e-6, absolute: 0, "step 1")
        expectClose(second, e2, relative: 1e-6, absolute: 0, "step 2")
        #expect(untouched)
    }

    @Test("Nesterov: v = μv + g; w −= lr · (g + μv)")
    func nesterov() {
        let mu: Float = 0.9, lr: Float = 0.1
        let (first, second, untouched) = Self.twoSteps(SGD(momentum: mu, nesterov: true), lr: lr)
        let v1 = Self.g1
        let e1 = (0..<3).map { Self.w0[$0] - lr * (Self.g1[$0] + mu * v1[$0]) }
        let v2 = (0..<3).map { mu * v1[$0] + Self.g2[$0] }
        let e2 = (0..<3).map { e1[$0] - lr * (Self.g2[$0] + mu * v2[$0]) }
        expectClose(first, e1, relative: 1e-6, absolute: 0, "step 1")
        expectClose(second, e2, relative: 1e-6, absolute: 0, "step 2")
        #expect(untouched)
    }

    /// Adam by the formulas, in Double.
    static func adamReference(lr: Double, b1: Double, b2: Double, eps: Double, wd: Double, decays: Bool)
        -> (first: [Float], second: [Float]) {
        var w = w0.map(Double.init), m = [Double](repeating: 0, count: 3), v = m
        var out: [[Float]] = []
        for (t, g) in [g1, g2].enumerated() {
            let step = Double(t + 1)
            for i in 0..<3 {
                let gi = Double(g[i])
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let mHat = m[i] / (1 - Foundation.pow(b1, step)), vHat = v[i] / (1 - Foundation.pow(b2, step))
                w[i] -= lr * mHat / (vHat.squareRoot() + eps) + (decays ? lr * wd * w[i] : 0)
            }
            out.append(w.map(Float.init))
        }
        return (out[0], out[1])
    }

    @Test("Adam: two steps by the formulas; the first moves each weight by ≈ lr")
    func adam() {
        let lr: Float = 0.01
        let (first, second, untouched) = Self.twoSteps(Adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), lr: lr)
        let e = Self.adamReference(lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decays: true)
        expectClose(first, e.first, relative: 1e-5, absolute: 0, "step 1")
        expectClose(second, e.second, relative: 1e-5, absolute: 0, "step 2")
        // Bias correction: the first step is lr · sign(g).
        expectClose(first, (0..<3).map { Self.w0[$0] - lr * (Self.g1[$0] > 0 ? 1 : -1) }, relative: 1e-5, absolute: 0, "≈ lr")
        #expect(untouched)
    }

    @Test("AdamW: decoupled weight decay on weights, not on biases", arguments: [true, false])
    func adamW(decays: Bool) {
        let (first, second, untouched) = Self.twoSteps(Adam(weightDecay: 0.1), lr: 0.01, decays: decays)
        let e = Self.adamReference(lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decays: decays)
        expectClose(first, e.first, relative: 1e-5, absolute: 0, "step 1")
        expectClose(second, e.second, relative: 1e-5, absolute: 0, "step 2")
        #expect(untouched)
        let plain = Self.twoSteps(Adam(), lr: 0.01, decays: decays).second
        #expect((plain == second) == !decays, "decay changes weights, and only weights")
    }

    @Test("L2 adds l2 · w to the gradient of weights, not of biases", arguments: [true, false])
    func l2(decays: Bool) {
        let p = Self.parameter(Self.w0, decays: decays)
        Self.setGradient(p, Self.g1)
        SGD(l2: 0.5).step([p], lr: 0.1)
        let expected = (0..<3).map { Self.w0[$0] - 0.1 * (Self.g1[$0] + (decays ? 0.5 * Self.w0[$0] : 0)) }
        expectClose(p.value.array, expected, relative: 1e-6, absolute: 0, "L2 step")
    }

    @Test("Adam with L2 adds l2 · w to the gradient before the moments")
    func adamL2() {
        let p = Self.parameter(Self.w0), q = Self.parameter(Self.w0)
        Self.setGradient(p, Self.g1)
        Adam(l2: 0.5).step([p], lr: 0.01)
        Self.setGradient(q, (0..<3).map { Self.g1[$0] + 0.5 * Self.w0[$0] })
        Adam().step([q], lr: 0.01)
        #expect(p.value.array == q.value.array)
    }

    @Test("A large parameter, updated in slices on several threads, gets the same bits as on one",
          arguments: [OptimizerKind.sgd, .momentum(0.9, nesterov: true), .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)])
    func slicedUpdate(kind: OptimizerKind) {
        // 200,000 values: six slices of about 33,000. Each value's update is the same formula
        // as on a small parameter, so the sliced result must equal a three-value parameter's.
        func run(threads: Int) -> (weights: [Float], untouched: Bool) {
            Parallel.$threadCount.withValue(threads) {
                let n = 200_000
                let p = Self.parameter((0..<n).map { Self.w0[$0 % 3] })
                let opt = kind.make(l2: 0)
                for g in [Self.g1, Self.g2] {
                    for i in 0..<n { p.grad.data[i] = g[i % 3] }
                    opt.step([p], lr: 0.1)
                }
                return (p.value.array, (0..<n).allSatisfy { p.grad.data[$0] == Self.g2[$0 % 3] })
            }
        }
        let one = run(threads: 1), three = run(threads: 3)
        #expect(one.weights == three.weights)
        #expect(one.untouched && three.untouched)
        let small = Self.twoSteps(kind.make(l2: 0), lr: 0.1).second
        #expect(Array(one.weights.prefix(6)) == small + small)
    }

    @Test("OptimizerKind makes the optimiser it names")
    func kinds() {
        #expect(OptimizerKind.sgd.make(l2: 0) is SGD)
        let m = OptimizerKind.momentum(0.8, nesterov: true).make(l2: 0.01) as? SGD
        #expect(m?.momentum == 0.8 && m?.nesterov == true && m?.l2 == 0.01)
        let a = OptimizerKind.adamW(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05).make(l2: 0) as? Adam
        #expect(a?.beta1 == 0.8 && a?.beta2 == 0.99 && a?.epsilon == 1e-6 && a?.weightDecay == 0.05)
        #expect((OptimizerKind.adam.make(l2: 0) as? Adam)?.weightDecay == 0)
    }
}
