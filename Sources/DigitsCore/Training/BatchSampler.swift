/// Chooses which samples go into each batch, following a `Batching` rule.
///
/// It writes indices into a buffer it owns, so drawing a batch allocates nothing (a shuffle
/// reuses one permutation array).
public struct BatchSampler {
    public let count: Int
    public let batchSize: Int
    public let batching: Batching
    private var order: [Int]
    private var position = 0
    private var rng: RandomSource

    /// Steps in one pass over `count` samples: the last batch may be smaller.
    public var stepsPerEpoch: Int { (count + batchSize - 1) / batchSize }

    public init(count: Int, batchSize: Int, batching: Batching, rng: RandomSource) {
        self.count = count
        self.batchSize = min(batchSize, count)
        self.batching = batching
        self.order = Array(0..<count)
        self.rng = rng
        if batching == .shuffled { self.rng.shuffle(&order) }
    }

    /// Writes the next batch's indices to `indices` and returns how many (≤ batchSize).
    /// A pass ends with a possibly smaller batch; the next pass starts afresh (reshuffled).
    public mutating func next(into indices: UnsafeMutablePointer<Int>) -> Int {
        switch batching {
        case .withReplacement:
            for b in 0..<batchSize { indices[b] = rng.index(below: count) }
            return batchSize
        case .shuffled, .inOrder:
            if position >= count {
                position = 0
                if batching == .shuffled { rng.shuffle(&order) }
            }
            let n = min(batchSize, count - position)
            for b in 0..<n { indices[b] = order[position + b] }
            position += n
            return n
        }
    }
}
