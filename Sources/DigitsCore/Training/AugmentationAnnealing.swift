/// Augmentation annealing: the last epochs of a run train on lighter distortions than the rest.
///
/// Heavy distortions (slant, elastic wobble, blur, noise…) make a network robust, but they also
/// make the training images unlike clean test images until the very end. Annealing trains the
/// first epochs with the plan's `augmentation` and the last `epochs` with `augmentation` here
/// (lighter, or nil for none), as the learning rate comes down.
///
/// Which one a step uses depends only on the step, so a run resumed from a checkpoint switches at
/// the same step; both draw from the trainer's one augmentation generator, so the same seed gives
/// the same weights.
public struct AugmentationAnnealing: Sendable, Equatable {
    /// How many of the run's last epochs use the lighter augmentation (at least 1).
    public var epochs: Int
    /// The augmentation of those epochs, or nil for none.
    public var augmentation: Augmentation?

    /// The last `epochs` epochs of a run trained with `augmentation` (nil: none) instead of the
    /// plan's own.
    public init(epochs: Int, augmentation: Augmentation?) {
        self.epochs = epochs
        self.augmentation = augmentation
    }

    /// The first step (0-based) that uses the lighter augmentation, in a run of `totalSteps` steps
    /// of `stepsPerEpoch` each: `totalSteps − epochs · stepsPerEpoch`, or 0 when that is
    /// negative (every step is light).
    ///
    ///     9 epochs of 430 steps, the last 2 light: steps 3010..<3870
    public func firstStep(totalSteps: Int, stepsPerEpoch: Int) -> Int {
        let (light, overflow) = epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        return overflow ? 0 : max(0, totalSteps - light)
    }
}
