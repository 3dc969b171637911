import DigitsCore
import Foundation
import Testing

@Suite struct ScheduleTests {
    @Test func constant() {
        for s in [0, 5, 99] { #expect(LearningRateSchedule.constant.rate(base: 0.3, step: s, totalSteps: 100) == 0.3) }
    }

    @Test("Step: × gamma every `every` steps")
    func step() {
        let s = LearningRateSchedule.step(every: 10, gamma: 0.5)
        let rates = [0, 9, 10, 19, 20, 35].map { s.rate(base: 1, step: $0, totalSteps: 100) }
        expectClose(rates, [1, 1, 0.5, 0.5, 0.25, 0.125], relative: 1e-6, absolute: 0, "step")
    }

    @Test("Cosine: from base to minFactor · base, halfway in the middle, never increasing")
    func cosine() {
        let s = LearningRateSchedule.cosine(minFactor: 0.1)
        let total = 101
        #expect(isApproximatelyEqual(s.rate(base: 2, step: 0, totalSteps: total), 2, relative: 1e-6))
        #expect(isApproximatelyEqual(s.rate(base: 2, step: 50, totalSteps: total), 2 * (0.1 + 0.9 * 0.5), relative: 1e-6))
        #expect(isApproximatelyEqual(s.rate(base: 2, step: total - 1, totalSteps: total), 0.2, relative: 1e-6))
        let rates = (0..<total).map { s.rate(base: 2, step: $0, totalSteps: total) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(LearningRateSchedule.cosine(minFactor: 0).rate(base: 1, step: 9, totalSteps: 10) == 0)
    }

    @Test("One-cycle: starts at base/div, peaks at base at the end of warm-up, ends at base/div/finalDiv")
    func oneCycle() {
        let s = LearningRateSchedule.oneCycle(warmup: 0.3, divFactor: 25, finalDivFactor: 1e4)
        let base: Float = 0.1, total = 100
        let rates = (0..<total).map { s.rate(base: base, step: $0, totalSteps: total) }
        #expect(isApproximatelyEqual(rates[0], base / 25, relative: 1e-6))
        let peak = rates.indices.max { rates[$0] < rates[$1] }!
        #expect(peak == 29, "peak at the last warm-up step (30 % of 100)")
        #expect(isApproximatelyEqual(rates[peak], base, relative: 1e-6))
        #expect(zip(rates[..<peak], rates[1...peak]).allSatisfy { $0 < $1 }, "warm-up rises")
        #expect(zip(rates[peak...], rates[(peak + 1)...]).allSatisfy { $0 >= $1 }, "annealing falls")
        #expect(isApproximatelyEqual(rates[total - 1], base / 25 / 1e4, relative: 1e-4))
        #expect(LearningRateSchedule.oneCycleDefault == s)
    }
}
