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
        for p in parameters where p.trainable {
            p.addL2(l2)
            let w = p.value.data, g = p.grad.data, n = p.value.count
            if momentum == 0 {
                forEachSlice(n) { r in for i in r { w[i] -= lr * g[i] } }
            } else {
                let v = velocityBuffer(for: p).data, mu = momentum
                if nesterov {
                    forEachSlice(n) { r in
                        for i in r { let gi = g[i]; v[i] = mu * v[i] + gi; w[i] -= lr * (gi + mu * v[i]) }
                    }
                } else {
                    forEachSlice(n) { r in for i in r { v[i] = mu * v[i] + g[i]; w[i] -= lr * v[i] } }
                }
            }
        }
    }

    private func velocityBuffer(for p: Parameter) -> Tensor {
        if let v = velocity[ObjectIdentifier(p)] { return v }
        let v = Tensor(shape: p.value.shape)
        velocity[ObjectIdentifier(p)] = v
        return v
    }
}
