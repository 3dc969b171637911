import DigitsCore
import Testing

@Suite struct RandomSourceTests {
    @Test("The same seed gives the same sequence; different seeds differ")
    func determinism() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42), c = RandomSource(seed: 43)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }, sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
        #expect(Set(sa).count == 100)
        // Seed 0 is not degenerate (SplitMix expands it).
        var z = RandomSource(seed: 0)
        #expect((0..<10).map { _ in z.next() }.contains { $0 != 0 })
    }

    @Test("uniform stays in [low, high) and covers it")
    func uniform() {
        var rng = RandomSource(seed: 7)
        let xs = (0..<10_000).map { _ in rng.uniform(-3, 5) }
        #expect(xs.allSatisfy { $0 >= -3 && $0 < 5 })
        #expect(xs.min()! < -2.99 && xs.max()! > 4.99)
        let mean = xs.reduce(0.0) { $0 + Double($1) } / Double(xs.count)
        #expect(abs(mean - 1) < 0.1)
        var u = RandomSource(seed: 8)
        #expect((0..<10_000).allSatisfy { _ in let v = u.nextUnit(); return v >= 0 && v < 1 })
    }

    @Test("normal has mean ≈ 0 and std ≈ 1 over 10k samples")
    func normal() {
        var rng = RandomSource(seed: 9)
        let xs = (0..<10_000).map { _ in Double(rng.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let std = (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)).squareRoot()
        #expect(abs(mean) < 0.05, "mean \(mean)")
        #expect(abs(std - 1) < 0.05, "std \(std)")
        #expect(xs.allSatisfy { $0.isFinite })
        // About 4.6 % of samples lie beyond ±2σ.
        let tails = Double(xs.filter { abs($0) > 2 }.count) / Double(xs.count)
        #expect(tails > 0.03 && tails < 0.065, "tails \(tails)")
    }

    @Test("index(below:) is in range and hits every value")
    func index() {
        var rng = RandomSource(seed: 10)
        let xs = (0..<2_000).map { _ in rng.index(below: 7) }
        #expect(xs.allSatisfy { (0..<7).contains($0) })
        #expect(Set(xs).count == 7)
    }

    @Test("shuffle is a permutation, deterministic, and actually shuffles")
    func shuffle() {
        var a = RandomSource(seed: 11), b = RandomSource(seed: 11)
        var x = Array(0..<100), y = Array(0..<100)
        a.shuffle(&x)
        b.shuffle(&y)
        #expect(x == y)
        #expect(x.sorted() == Array(0..<100))
        #expect(x != Array(0..<100))
        var one = [5], empty: [Int] = []
        a.shuffle(&one)
        a.shuffle(&empty)
        #expect(one == [5] && empty.isEmpty)
    }

    @Test("shuffle is uniform: each of the 6 orders of 3 items about equally often")
    func shuffleUniform() {
        var rng = RandomSource(seed: 13)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<6_000 {
            var x = [0, 1, 2]
            rng.shuffle(&x)
            counts[x, default: 0] += 1
        }
        #expect(counts.count == 6, "\(counts)")
        #expect(counts.values.allSatisfy { (850...1150).contains($0) }, "\(counts)")
    }

    @Test("fork gives a deterministic, independent stream")
    func fork() {
        var a = RandomSource(seed: 12), b = RandomSource(seed: 12)
        var fa = a.fork(), fb = b.fork()
        #expect(fa.next() == fb.next())
        #expect(a.next() == b.next())
        var c = RandomSource(seed: 12)
        var fc = c.fork()
        #expect(fc.next() != c.next())
    }
}
