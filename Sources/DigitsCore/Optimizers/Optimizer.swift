/// Updates parameters from their gradients.
///
/// Before the update, L2 regularisation adds `l2 · w` to the gradient of every parameter that
/// decays (weights, not biases): the gradient of the penalty ½·l2·‖w‖².
public protocol Optimizer: AnyObject {
    /// A short description: "sgd(momentum 0.9, nesterov)".
    var summary: String { get }
    /// Updates every trainable parameter from its gradient with learning rate `lr`. (The
    /// gradients are left as they are: the next training step zeroes them first.)
    func step(_ parameters: [Parameter], lr: Float)
    /// Whether a step may be taken in parts: `beginStep()` once, then `update(_:lr:)` on each
    /// group of parameters in turn, with the same result as `step` on them all. The trainer then
    /// updates each layer as soon as back-propagation has finished with it, while its gradient
    /// is still in cache. False unless the optimiser says otherwise.
    var updatesInParts: Bool { get }
    /// Starts a step taken in parts (counts it).
    func beginStep()
    /// Updates `parameters`, a part of the step begun by `beginStep()`.
    func update(_ parameters: [Parameter], lr: Float)
    /// A copy of what the optimiser remembers about `parameters`, to save in a checkpoint.
    func state(for parameters: [Parameter]) -> OptimizerState
    /// Continues from `state` (as `state(for:)` gave it for the same network): later steps are
    /// bit for bit those the saved optimiser would have taken.
    func restore(_ state: OptimizerState, for parameters: [Parameter]) throws(OptimizerStateError)
}

extension Optimizer {
    public var updatesInParts: Bool { false }
    public func beginStep() {}
    public func update(_ parameters: [Parameter], lr: Float) {
        preconditionFailure("\(summary) cannot take a step in parts")
    }

    /// Runs `body` over `0..<count` in slices: on both CPUs for a large parameter (an update is
    /// a pass over memory, which a second thread speeds up), in one piece for a small one. Each
    /// value is updated on its own, so the slicing never changes a result. One slice a thread,
    /// in order: the calling thread takes the first, as it does the first rows of the weight
    /// gradient just computed (a dense layer's, split by rows), which are then in its cache.
    @inline(__always)
    func forEachSlice(_ count: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachSlice(count, minimumSlice: 1 << 15, maximumParts: Parallel.threads, body)
    }
}

/// What the command line and presets choose from.
public enum OptimizerKind: Sendable, Equatable {
    case sgd
    case momentum(Float, nesterov: Bool)
    case adam(beta1: Float, beta2: Float, epsilon: Float)
    /// Adam with decoupled weight decay (Loshchilov & Hutter).
    case adamW(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)

    /// Adam with the usual constants: β1 0.9, β2 0.999, ε 1e-8.
    public static let adam = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// A new optimiser of this kind.
    public func make(l2: Float) -> any Optimizer {
        switch self {
        case .sgd: SGD(momentum: 0, nesterov: false, l2: l2)
        case .momentum(let m, let n): SGD(momentum: m, nesterov: n, l2: l2)
        case let .adam(b1, b2, e): Adam(beta1: b1, beta2: b2, epsilon: e, l2: l2, weightDecay: 0)
        case let .adamW(b1, b2, e, wd): Adam(beta1: b1, beta2: b2, epsilon: e, l2: l2, weightDecay: wd)
        }
    }
}

extension Parameter {
    /// g += l2 · w, for a parameter that decays.
    @inlinable
    func addL2(_ l2: Float) {
        guard l2 != 0, decays else { return }
        let w = value.data, g = grad.data
        for i in 0..<value.count { g[i] += l2 * w[i] }
    }
}
