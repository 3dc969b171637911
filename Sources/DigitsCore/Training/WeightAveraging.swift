/// Weight averaging: the network a run ends with is an average of the weights it passed
/// through in its last epochs, not the weights of its last step.
///
/// Late in training, SGD's weights wander around a minimum, one batch's noise at a time; their
/// average sits nearer its centre and usually generalises a little better (Polyak & Juditsky
/// 1992; stochastic weight averaging, Izmailov et al. 2018; the exponential moving average of
/// many image models). After every step from `firstStep` on, the average θ̄ moves towards the
/// weights θ the step left:
///
///     θ̄ ← θ̄ + α_n · (θ − θ̄),    α_n = max(1 − decay, 1 / (n + 1))
///
/// where n counts the steps averaged before this one. The first step copies θ (α_0 = 1); then
/// θ̄ is the plain mean of the n + 1 weights seen, until 1/(n + 1) falls below 1 − decay, and
/// from there an exponential moving average that forgets at rate 1 − decay. `decay` 1 is the
/// plain mean throughout (SWA with a constant learning rate's "one average per step");
/// `decay` 0.999 is an exponential moving average over about the last 1,000 steps.
///
/// Every parameter of the model is averaged, BatchNorm's running mean and variance with the
/// weights: the running statistics are themselves a moving average of recent batches, so their
/// average over the same steps belongs to the averaged weights to first order (the weights move
/// little at the end of a decaying schedule), and it costs no extra pass over the data. (SWA's
/// alternative recomputes them with one more pass over the training set with the averaged
/// weights: exact, but a forward pass over the data set that a checkpoint would also have to
/// cover.)
///
/// Which steps are averaged depends on the step alone, and the average is part of a
/// checkpoint, so a resumed run ends with the same bytes as one never stopped; each value is
/// updated on its own, so the result is the same on any number of threads.
public struct WeightAveraging: Sendable, Equatable {
    /// How slowly the average forgets, in [0, 1]: 1 is the plain mean of every averaged step.
    public var decay: Float
    /// How many of the run's last epochs are averaged (at least 1), or nil for the whole run.
    public var epochs: Int?

    public init(decay: Float, epochs: Int? = nil) {
        self.decay = decay
        self.epochs = epochs
    }

    /// Stochastic weight averaging: the plain mean of the weights after every step of the last
    /// `epochs` epochs.
    public static func uniform(epochs: Int) -> WeightAveraging { WeightAveraging(decay: 1, epochs: epochs) }

    /// The first step (0-based) whose weights are averaged, in a run of `totalSteps` steps of
    /// `stepsPerEpoch` each: `totalSteps − epochs · stepsPerEpoch`, or 0 (every step).
    ///
    ///     9 epochs of 430 steps, the last 3 averaged: steps 2580..<3870
    public func firstStep(totalSteps: Int, stepsPerEpoch: Int) -> Int {
        guard let epochs else { return 0 }
        let (averaged, overflow) = epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        return overflow ? 0 : max(0, totalSteps - averaged)
    }

    /// α_n: how far the average moves towards the weights at its (n + 1)-th step.
    ///
    ///     decay 0.999:  α_0 = 1, α_1 = 1/2, …, α_999 = 1/1000, then 0.001 from there on
    @inlinable
    public func rate(averagedSteps n: Int) -> Float {
        max(1 - decay, 1 / Float(n + 1))
    }
}

/// The running average of a model's parameters that `WeightAveraging` describes: one buffer
/// per parameter, updated after each averaged step.
public final class WeightAverage {
    /// What is averaged and how.
    public let averaging: WeightAveraging
    /// Steps averaged so far (n).
    public private(set) var count = 0
    /// The average of each parameter, in the model's order, shaped like it.
    public let tensors: [Tensor]
    /// The parameters' names, in the same order.
    public let names: [String]

    /// An empty average (no step yet) for the parameters of a model.
    public init(averaging: WeightAveraging, parameters: [Parameter]) {
        self.averaging = averaging
        self.tensors = parameters.map { Tensor(shape: $0.value.shape) }
        self.names = parameters.map { $0.name }
    }

    /// Adds the weights a step left: θ̄ ← θ̄ + α_n · (θ − θ̄) for every value, then n += 1.
    public func update(from parameters: [Parameter]) {
        let alpha = averaging.rate(averagedSteps: count)
        for (p, average) in zip(parameters, tensors) {
            let w = p.value.data, a = average.data
            if alpha == 1 {
                a.update(from: w, count: average.count)
            } else {
                for i in 0..<average.count { a[i] += alpha * (w[i] - a[i]) }
            }
        }
        count += 1
    }

    /// Exchanges the model's values with the averages (twice is where one started): to
    /// evaluate the averaged network between steps, and to end a run with it.
    public func swap(with parameters: [Parameter]) {
        for (p, average) in zip(parameters, tensors) {
            let w = p.value.data, a = average.data
            for i in 0..<average.count { (w[i], a[i]) = (a[i], w[i]) }
        }
    }

    /// Sets the model's values to the averages (how a finished run ends; doing it again changes
    /// nothing, so a run resumed from its last checkpoint ends the same).
    public func copy(into parameters: [Parameter]) {
        for (p, average) in zip(parameters, tensors) { p.value.data.update(from: average.data, count: average.count) }
    }

    // MARK: - State (for checkpoints)

    /// What a checkpoint keeps: the steps averaged and a copy of each average by parameter name.
    public struct State {
        public var count: Int
        public var tensors: [String: Tensor]

        public init(count: Int, tensors: [String: Tensor]) {
            self.count = count
            self.tensors = tensors
        }
    }

    /// A copy of the average, to save.
    public var state: State {
        var copies: [String: Tensor] = [:]
        for (name, t) in zip(names, tensors) {
            let c = Tensor(shape: t.shape)
            c.data.update(from: t.data, count: t.count)
            copies[name] = c
        }
        return State(count: count, tensors: copies)
    }

    /// Continues from a saved average of the same network: its tensors must be exactly this
    /// average's, by name and shape, and finite.
    public func restore(_ saved: State) throws(TrainingError) {
        guard saved.count >= 0 else { throw .invalidState("the weight average counts \(saved.count) steps") }
        guard saved.tensors.count == tensors.count else {
            throw .invalidState("the weight average holds \(saved.tensors.count) tensors, the network has \(tensors.count) parameters")
        }
        for (name, t) in zip(names, tensors) {
            guard let s = saved.tensors[name] else { throw .invalidState("the weight average of \(name) is missing") }
            guard s.shape == t.shape else { throw .invalidState("the weight average of \(name) has shape \(s.shape), expected \(t.shape)") }
            for i in 0..<s.count where !s.data[i].isFinite { throw .invalidState("the weight average of \(name) is not finite") }
        }
        for (name, t) in zip(names, tensors) {
            if let s = saved.tensors[name] { t.data.update(from: s.data, count: t.count) }
        }
        count = saved.count
    }
}
