import DigitsCore
import Testing

@Suite struct InitializerTests {
    static func draw(_ initializer: Initializer, fanIn: Int = 100, fanOut: Int = 50, count: Int = 10_000, seed: UInt64 = 1) -> [Float] {
        var rng = RandomSource(seed: seed)
        let t = Tensor(shape: [count], repeating: 7)
        initializer.fill(t, fanIn: fanIn, fanOut: fanOut, rng: &rng)
        return t.array
    }

    static func meanAndStd(_ xs: [Float]) -> (Double, Double) {
        let mean = xs.reduce(0.0) { $0 + Double($1) } / Double(xs.count)
        let variance = xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(xs.count)
        return (mean, variance.squareRoot())
    }

    @Test("He: N(0, 2/fanIn)")
    func he() {
        let (mean, std) = Self.meanAndStd(Self.draw(.he, fanIn: 200))
        let expected = (2.0 / 200).squareRoot()
        #expect(abs(mean) < 0.05 * expected)
        #expect(abs(std / expected - 1) < 0.05, "std \(std), expected \(expected)")
    }

    @Test("Normal: N(0, std²)")
    func normal() {
        let (mean, std) = Self.meanAndStd(Self.draw(.normal(std: 0.3)))
        #expect(abs(mean) < 0.015)
        #expect(abs(std / 0.3 - 1) < 0.05)
    }

    /// A uniform initializer's values lie in [-limit, limit), fill it, and have std limit/√3.
    static func expectUniform(_ xs: [Float], low: Float, high: Float, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(xs.allSatisfy { $0 >= low && $0 < high }, sourceLocation: sourceLocation)
        let width = high - low
        #expect(xs.min()! < low + 0.01 * width && xs.max()! > high - 0.01 * width, sourceLocation: sourceLocation)
        let (mean, std) = meanAndStd(xs)
        #expect(abs(mean - Double(low + high) / 2) < 0.02 * Double(width), sourceLocation: sourceLocation)
        #expect(abs(std / (Double(width) / 12.0.squareRoot()) - 1) < 0.05, sourceLocation: sourceLocation)
    }

    @Test("Xavier: U(±√(6/(fanIn+fanOut)))")
    func xavier() {
        let limit = Float((6.0 / 150).squareRoot())
        Self.expectUniform(Self.draw(.xavier, fanIn: 100, fanOut: 50), low: -limit, high: limit)
    }

    @Test("LeCun uniform: U(±1/√fanIn)")
    func lecun() {
        Self.expectUniform(Self.draw(.lecunUniform, fanIn: 64), low: -0.125, high: 0.125)
    }

    @Test("uniform(low, high)")
    func uniform() {
        Self.expectUniform(Self.draw(.uniform(low: -0.2, high: 0.6)), low: -0.2, high: 0.6)
    }

    @Test("zeros overwrites whatever was there")
    func zeros() {
        #expect(Self.draw(.zeros).allSatisfy { $0 == 0 })
    }

    @Test("The same seed gives the same weights; another seed other weights",
          arguments: [Initializer.he, .xavier, .lecunUniform, .uniform(low: -1, high: 1), .normal(std: 1)])
    func determinism(initializer: Initializer) {
        #expect(Self.draw(initializer, count: 100, seed: 5) == Self.draw(initializer, count: 100, seed: 5))
        #expect(Self.draw(initializer, count: 100, seed: 5) != Self.draw(initializer, count: 100, seed: 6))
    }

    @Test("A dense layer draws the same weights from the same seed, then its bias")
    func denseDeterminism() {
        func make(_ seed: UInt64) -> Dense {
            var rng = RandomSource(seed: seed)
            return Dense(30, 20, initializer: .he, biasInitializer: .uniform(low: -1, high: 1), rng: &rng)
        }
        let a = make(3), b = make(3), c = make(4)
        #expect(a.weight.value.array == b.weight.value.array)
        #expect(a.bias!.value.array == b.bias!.value.array)
        #expect(a.weight.value.array != c.weight.value.array)
        // Weights first, then bias, from one stream.
        var rng = RandomSource(seed: 3)
        let w = Tensor(shape: [30, 20])
        Initializer.he.fill(w, fanIn: 30, fanOut: 20, rng: &rng)
        #expect(w.array == a.weight.value.array)
        // Biases default to zeros.
        var r2 = RandomSource(seed: 3)
        #expect(Dense(3, 2, rng: &r2).bias!.value.array == [0, 0])
    }
}
