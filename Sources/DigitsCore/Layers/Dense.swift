/// A fully connected layer: y = x · W + b, optionally followed by a fused activation.
///
/// The weight is stored `(inputs, outputs)`, so a batch multiplies as `x · W` with no transpose.
/// When `activation` is set, the kernel adds the bias and applies the activation as it writes
/// each row (one pass over the output instead of three).
public final class Dense: Layer {
    public let inputs: Int
    public let outputs: Int
    /// The activation fused after the affine map, or nil for none.
    public let activation: Activation?
    /// How the bias gradient is formed. `.perUnit` is the textbook one.
    public let biasGradient: BiasGradient

    /// The weight, `(inputs, outputs)`.
    public let weight: Parameter
    /// The bias, `(outputs)`, or nil when the layer has none.
    public let bias: Parameter?
    public var computesInputGradient = true

    /// How `backward` turns dz into the bias gradient.
    public enum BiasGradient: String, Sendable, Codable {
        /// db[j] = Σ_b dz[b, j]: the true gradient.
        case perUnit = "per_unit"
        /// Every db[j] = mean of all of dz: a quirk of the `tutorial-leaky-256-128` tutorial
        /// (`b -= lr * np.mean(error)`), kept so that its network can be reproduced.
        case scalarMean = "scalar_mean"
    }

    private var x: Tensor?          // the last input, (B, inputs), kept for backward
    private let y = Tensor(shape: [0])   // (B, outputs)
    private let dz = Tensor(shape: [0])  // (B, outputs), used when an activation is fused
    private let dx = Tensor(shape: [0])  // (B, inputs)

    /// A dense layer with weights drawn by `initializer` and bias by `biasInitializer` (zeros
    /// unless told), in that order, from `rng`.
    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, activation: Activation? = nil,
                biasGradient: BiasGradient = .perUnit,
                initializer: Initializer = .he, biasInitializer: Initializer = .zeros,
                rng: inout RandomSource) {
        self.inputs = inputs
        self.outputs = outputs
        self.activation = activation
        self.biasGradient = biasGradient
        let w = Tensor(shape: [inputs, outputs])
        initializer.fill(w, fanIn: inputs, fanOut: outputs, rng: &rng)
        self.weight = Parameter(name: "weight", value: w, decays: true)
        if bias {
            let b = Tensor(shape: [outputs])
            biasInitializer.fill(b, fanIn: inputs, fanOut: outputs, rng: &rng)
            self.bias = Parameter(name: "bias", value: b, decays: false)
        } else {
            self.bias = nil
        }
    }

    public var summary: String {
        "Dense(\(inputs) → \(outputs)\(bias == nil ? ", no bias" : "")\(activation.map { ", \($0.name)" } ?? ""))"
    }

    public var spec: LayerSpec {
        .dense(inputs: inputs, outputs: outputs, bias: bias != nil, activation: activation,
               biasGradient: biasGradient == .perUnit ? nil : biasGradient)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.reduce(1, *) == inputs else {
            throw .invalidArchitecture("\(summary) takes \(inputs) inputs, got shape \(input)")
        }
        return [outputs]
    }

    // MARK: - Forward and backward

    // x: (B, inputs) -> y: (B, outputs)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let batch = x.rows
        precondition(x.count == batch * inputs, "\(summary) got input of shape \(x.shape)")
        self.x = x
        y.reshape(rows: batch, columns: outputs)
        GEMM.multiply(m: batch, n: outputs, k: inputs,
                      a: x.data, lda: inputs, b: weight.value.data, ldb: outputs,
                      c: y.data, ldc: outputs,
                      epilogue: GEMMEpilogue(bias: bias.map { UnsafePointer($0.value.data) }, activation: activation))
        return y
    }

    // dy: (B, outputs) -> dx: (B, inputs); dW += xᵀ · dz, db += Σ_b dz
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x else { preconditionFailure("\(summary): backward before forward") }
        let batch = x.rows
        // dz = dy · f'(z), written from the output y.
        var dzData = dy.data
        if let activation {
            dz.reshape(rows: batch, columns: outputs)
            activation.backward(y: y.data, dy: dy.data, dx: dz.data, batch * outputs)
            dzData = dz.data
        }
        // dW (inputs, outputs) += xᵀ (inputs, B) · dz (B, outputs)
        GEMM.multiply(transA: true, m: inputs, n: outputs, k: batch,
                      a: x.data, lda: inputs, b: dzData, ldb: outputs,
                      beta: 1, c: weight.grad.data, ldc: outputs)
        if let bias {
            let db = bias.grad.data
            switch biasGradient {
            case .perUnit:
                for b in 0..<batch {
                    let row = dzData + b * outputs
                    for j in 0..<outputs { db[j] += row[j] }
                }
            case .scalarMean:
                var sum: Float = 0
                for i in 0..<(batch * outputs) { sum += dzData[i] }
                let mean = sum / Float(batch * outputs)
                for j in 0..<outputs { db[j] += mean }
            }
        }
        guard computesInputGradient else { return dx }
        // dx (B, inputs) = dz (B, outputs) · Wᵀ (outputs, inputs)
        dx.reshape(rows: batch, columns: inputs)
        GEMM.multiply(transB: true, m: batch, n: inputs, k: outputs,
                      a: dzData, lda: outputs, b: weight.value.data, ldb: outputs,
                      c: dx.data, ldc: inputs)
        return dx
    }
}
