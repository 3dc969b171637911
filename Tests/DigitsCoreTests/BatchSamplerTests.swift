import DigitsCore
import Testing

@Suite struct BatchSamplerTests {
    /// The batches of one pass (or `steps` batches).
    static func batches(_ sampler: inout BatchSampler, steps: Int) -> [[Int]] {
        var buffer = [Int](repeating: -1, count: sampler.batchSize)
        return (0..<steps).map { _ in
            let n = buffer.withUnsafeMutableBufferPointer { sampler.next(into: $0.baseAddress!) }
            return Array(buffer[..<n])
        }
    }

    @Test("Shuffled: each index once per epoch, the last batch smaller, a new order every epoch")
    func shuffled() {
        var sampler = BatchSampler(count: 10, batchSize: 3, batching: .shuffled, rng: RandomSource(seed: 1))
        #expect(sampler.stepsPerEpoch == 4)
        let epoch1 = Self.batches(&sampler, steps: 4), epoch2 = Self.batches(&sampler, steps: 4)
        for epoch in [epoch1, epoch2] {
            #expect(epoch.map(\.count) == [3, 3, 3, 1])
            #expect(epoch.flatMap { $0 }.sorted() == Array(0..<10))
        }
        #expect(epoch1.flatMap { $0 } != Array(0..<10), "shuffled")
        #expect(epoch1 != epoch2, "reshuffled each epoch")

        var again = BatchSampler(count: 10, batchSize: 3, batching: .shuffled, rng: RandomSource(seed: 1))
        #expect(Self.batches(&again, steps: 4) == epoch1, "same seed, same order")
    }

    @Test("In order: the stored order, pass after pass")
    func inOrder() {
        var sampler = BatchSampler(count: 5, batchSize: 2, batching: .inOrder, rng: RandomSource(seed: 1))
        #expect(Self.batches(&sampler, steps: 6) == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]])
    }

    @Test("With replacement: full batches of indices in range, with repeats")
    func withReplacement() {
        var sampler = BatchSampler(count: 8, batchSize: 5, batching: .withReplacement, rng: RandomSource(seed: 2))
        let all = Self.batches(&sampler, steps: 40)
        #expect(all.allSatisfy { $0.count == 5 })
        let flat = all.flatMap { $0 }
        #expect(flat.allSatisfy { (0..<8).contains($0) })
        #expect(Set(flat).count == 8, "every index drawn at some point")
        #expect(all.contains { Set($0).count < $0.count }, "some batch repeats an index")
    }

    @Test("A batch larger than the data set is the whole set (full batch)")
    func fullBatch() {
        var sampler = BatchSampler(count: 4, batchSize: 100, batching: .inOrder, rng: RandomSource(seed: 1))
        #expect(sampler.batchSize == 4 && sampler.stepsPerEpoch == 1)
        #expect(Self.batches(&sampler, steps: 2) == [[0, 1, 2, 3], [0, 1, 2, 3]])
    }
}
