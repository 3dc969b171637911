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

    // MARK: - State (for checkpoints)

    /// Where a sampler is: its order for the current pass, how far through it, and its generator.
    public struct State: Sendable, Equatable {
        /// The current pass's order of the samples (a permutation of 0..<count).
        public var order: [Int]
        /// Samples of `order` already drawn in this pass.
        public var position: Int
        /// The generator of later shuffles (and of every batch, with replacement).
        public var rng: RandomSource

        public init(order: [Int], position: Int, rng: RandomSource) {
            self.order = order
            self.position = position
            self.rng = rng
        }
    }

    /// A copy of where the sampler is.
    public var state: State { State(order: order, position: position, rng: rng) }

    /// A sampler that continues from `state`, or nil when `state` is not a position of a
    /// sampler over `count` samples (its order is not a permutation of 0..<count, or the
    /// position is past the end).
    public init?(count: Int, batchSize: Int, batching: Batching, state: State) {
        guard count >= 1, state.order.count == count, (0...count).contains(state.position) else { return nil }
        var seen = [Bool](repeating: false, count: count)
        for i in state.order {
            guard (0..<count).contains(i), !seen[i] else { return nil }
            seen[i] = true
        }
        self.count = count
        self.batchSize = min(batchSize, count)
        self.batching = batching
        self.order = state.order
        self.position = state.position
        self.rng = state.rng
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
