/// Stochastic gradient descent, with optional momentum (classical or Nesterov).
///
///     plain:     w −= lr · g
///     momentum:  v = μ·v + g;  w −= lr · v
///     Nesterov:  v = μ·v + g;  w −= lr · (g + μ·v)
///
/// (PyTorch's formulation, so the same hyper-parameters mean the same thing.)
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let l2: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]
    private var steps = 0

    public init(momentum: Float = 0, nesterov: Bool = false, l2: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.l2 = l2
    }

    public var summary: String {
        var s = "sgd"
        if momentum != 0 { s += "(momentum \(momentum)\(nesterov ? ", nesterov" : ""))" }
        if l2 != 0 { s += ", l2 \(l2)" }
        return s
    }

    public func step(_ parameters: [Parameter], lr: Float) {
        beginStep()
        update(parameters, lr: lr)
    }

    public var updatesInParts: Bool { true }

    public func beginStep() { steps += 1 }

    public func update(_ parameters: [Parameter], lr: Float) {
        for p in parameters where p.trainable {
            p.addL2(l2)
            let w = p.value.data, g = p.grad.data, n = p.value.count
            if momentum == 0 {
                forEachSlice(n) { r in DenseUpdate.sgd(w: w, g: g, lr: lr, r) }
            } else {
                let v = velocityBuffer(for: p).data, mu = momentum, nesterov = self.nesterov
                forEachSlice(n) { r in DenseUpdate.momentum(w: w, v: v, g: g, mu: mu, lr: lr, nesterov: nesterov, r) }
            }
        }
    }

    // MARK: - State

    public func state(for parameters: [Parameter]) -> OptimizerState {
        var tensors: [String: Tensor] = [:]
        for p in parameters where p.trainable {
            if let v = velocity[ObjectIdentifier(p)] { tensors["\(p.name).velocity"] = OptimizerState.copy(v) }
        }
        return OptimizerState(steps: steps, tensors: tensors)
    }

    public func restore(_ state: OptimizerState, for parameters: [Parameter]) throws(OptimizerStateError) {
        try state.validate(for: parameters, kinds: momentum == 0 ? [] : ["velocity"])
        velocity = [:]
        for p in parameters where p.trainable {
            if let saved = state.tensors["\(p.name).velocity"] { velocity[ObjectIdentifier(p)] = OptimizerState.copy(saved) }
        }
        steps = state.steps
    }

    private func velocityBuffer(for p: Parameter) -> Tensor {
        if let v = velocity[ObjectIdentifier(p)] { return v }
        let v = Tensor(shape: p.value.shape)
        velocity[ObjectIdentifier(p)] = v
        return v
    }
}
