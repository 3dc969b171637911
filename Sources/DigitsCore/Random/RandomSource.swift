/// A seeded pseudo-random generator (xoshiro256**), the only source of randomness in Digits.
///
/// Everything random (initial weights, shuffling, dropout, augmentation) takes one of these
/// explicitly, so the same seed gives the same weights on every run and every machine.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        // Expand the seed with SplitMix64, as the xoshiro authors recommend.
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform `Float` in [0, 1), from the top 24 bits.
    public mutating func nextUnit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A uniform `Double` in [0, 1), from the top 53 bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// A uniform `Float` in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextUnit() }

    /// A standard normal sample (Box–Muller in `Double`).
    public mutating func normal() -> Float {
        let u1 = max(nextUnitDouble(), 1e-300), u2 = nextUnitDouble()
        return Float((-2 * Math.log(u1)).squareRoot() * Math.cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<n.
    public mutating func index(below n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    /// A generator for a sub-task, derived from this one's seed stream, so that adding a
    /// consumer of randomness in one place does not shift every other sequence.
    public mutating func fork() -> RandomSource { RandomSource(seed: next()) }

    /// Shuffles `indices` in place (Fisher–Yates).
    public mutating func shuffle(_ indices: inout [Int]) {
        guard indices.count > 1 else { return }
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = index(below: i + 1)
            indices.swapAt(i, j)
        }
    }
}
