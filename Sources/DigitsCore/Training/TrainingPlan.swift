/// How samples are drawn into batches.
public enum Batching: String, Sendable, CaseIterable {
    /// Every epoch visits each sample once, in a fresh random order (the usual minibatch SGD).
    case shuffled
    /// Every epoch visits the samples in the order they are stored.
    case inOrder = "in-order"
    /// Each batch draws its samples at random, with replacement (so an "epoch" is only a count).
    case withReplacement = "with-replacement"
}

/// How long training runs.
public enum TrainingLength: Sendable, Equatable {
    /// Passes over the training set.
    case epochs(Int)
    /// Optimiser steps (batches), reported every `reportEvery` steps.
    case steps(Int, reportEvery: Int)
}

/// Everything about a training run except the network, the data and the loss.
public struct TrainingPlan: Sendable, Equatable {
    /// Samples per optimiser step. 1 is online SGD; the size of the training set is full-batch
    /// gradient descent.
    public var batchSize: Int
    public var batching: Batching
    public var length: TrainingLength
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var schedule: LearningRateSchedule
    /// L2 regularisation strength (on weights, not biases).
    public var l2: Float
    /// Whether a batch's gradient is the mean or the sum of its samples' gradients.
    public var reduction: Reduction
    /// The largest number of samples sent through the network at once. A larger batch is
    /// processed in chunks whose gradients are summed, so that full-batch gradient descent needs
    /// no more memory than a batch of this size.
    public var maxChunk: Int
    /// Random distortions applied to every training sample as its batch is gathered, or nil.
    public var augmentation: Augmentation?
    /// Lighter distortions (or none) for the run's last epochs, or nil: `augmentation` throughout.
    public var annealing: AugmentationAnnealing?
    /// Whether the run ends with an average of its last weights (`WeightAveraging`), or nil: the
    /// last step's.
    public var averaging: WeightAveraging?

    public init(batchSize: Int, batching: Batching = .shuffled, length: TrainingLength,
                optimizer: OptimizerKind, learningRate: Float, schedule: LearningRateSchedule = .constant,
                l2: Float = 0, reduction: Reduction = .mean, maxChunk: Int = 1024, augmentation: Augmentation? = nil,
                annealing: AugmentationAnnealing? = nil, averaging: WeightAveraging? = nil) {
        self.batchSize = batchSize
        self.batching = batching
        self.length = length
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.schedule = schedule
        self.l2 = l2
        self.reduction = reduction
        self.maxChunk = maxChunk
        self.augmentation = augmentation
        self.annealing = annealing
        self.averaging = averaging
    }
}
