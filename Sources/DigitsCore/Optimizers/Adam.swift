/// Adam (Kingma & Ba): per-value step sizes from running averages of the gradient and its square.
///
///     m = β1·m + (1 − β1)·g
///     v = β2·v + (1 − β2)·g²
///     w −= lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)  +  lr · wd · w   (AdamW's decoupled decay)
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float
    /// L2 regularisation, added to the gradient (classic Adam + L2).
    public let l2: Float
    /// Decoupled weight decay (AdamW), applied to the weights directly.
    public let weightDecay: Float
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor)] = [:]
    private var t = 0

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, l2: Float = 0, weightDecay: Float = 0) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.l2 = l2; self.weightDecay = weightDecay
    }

    public var summary: String {
        var s = weightDecay != 0 ? "adamw(weight decay \(weightDecay))" : "adam"
        if l2 != 0 { s += ", l2 \(l2)" }
        return s
    }

    public func step(_ parameters: [Parameter], lr: Float) {
        beginStep()
        update(parameters, lr: lr)
    }

    public var updatesInParts: Bool { true }

    public func beginStep() { t += 1 }

    public func update(_ parameters: [Parameter], lr: Float) {
        let c1 = 1 - Float(Math.pow(Double(beta1), Double(t)))
        let c2 = 1 - Float(Math.pow(Double(beta2), Double(t)))
        let stepSize = lr / c1, invC2 = 1 / c2
        for p in parameters where p.trainable {
            p.addL2(l2)
            let (mt, vt) = moments(for: p)
            let w = p.value.data, g = p.grad.data, m = mt.data, v = vt.data, n = p.value.count
            let decay = p.decays ? lr * weightDecay : 0
            let beta1 = self.beta1, beta2 = self.beta2, epsilon = self.epsilon
            forEachSlice(n) { r in
                DenseUpdate.adam(w: w, m: m, v: v, g: g, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                 stepSize: stepSize, invC2: invC2, decay: decay, r)
            }
        }
    }

    // MARK: - State

    public func state(for parameters: [Parameter]) -> OptimizerState {
        var tensors: [String: Tensor] = [:]
        for p in parameters where p.trainable {
            if let s = moments[ObjectIdentifier(p)] {
                tensors["\(p.name).m"] = OptimizerState.copy(s.m)
                tensors["\(p.name).v"] = OptimizerState.copy(s.v)
            }
        }
        return OptimizerState(steps: t, tensors: tensors)
    }

    public func restore(_ state: OptimizerState, for parameters: [Parameter]) throws(OptimizerStateError) {
        try state.validate(for: parameters, kinds: ["m", "v"])
        moments = [:]
        for p in parameters where p.trainable {
            let m = state.tensors["\(p.name).m"], v = state.tensors["\(p.name).v"]
            guard let m, let v else {
                if m != nil || v != nil { throw OptimizerStateError("\(p.name) has one of Adam's moments without the other") }
                continue
            }
            moments[ObjectIdentifier(p)] = (OptimizerState.copy(m), OptimizerState.copy(v))
        }
        t = state.steps
    }

    private func moments(for p: Parameter) -> (m: Tensor, v: Tensor) {
        if let s = moments[ObjectIdentifier(p)] { return s }
        let s = (m: Tensor(shape: p.value.shape), v: Tensor(shape: p.value.shape))
        moments[ObjectIdentifier(p)] = s
        return s
    }
}
