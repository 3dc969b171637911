/// A fully connected layer: y = x · W + b.
///
/// The weight is stored `(inputs, outputs)`, so a batch multiplies as `x · W` with no transpose.
/// The bias is added as the multiply writes each row of y. When an activation follows,
/// `Sequential` fuses it too (`forward(_:then:)`): one pass over the output instead of two.
public final class Dense: Layer {
    public let inputs: Int
    public let outputs: Int

    /// The weight, `(inputs, outputs)`.
    public let weight: Parameter
    /// The bias, `(outputs)`, or nil when the layer has none.
    public let bias: Parameter?
    public var computesInputGradient = true
    /// When true, the next `backward` writes the parameters' gradients (dW = xᵀ · dz,
    /// db = Σ_b dz) instead of adding to them, then turns itself off. A trainer sets it in place
    /// of zeroing them: the pass that zeroes dW is saved, and the weight-gradient multiply reads
    /// nothing from it. The same values as zeroing, then adding.
    public var overwritesGradients = false

    private var x: Tensor?               // the last input, (B, inputs), kept for backward
    private let y = Tensor(shape: [0])   // (B, outputs)
    private let dz = Tensor(shape: [0])  // (B, outputs): d(loss)/d(x·W + b) when an activation is fused
    private let dx = Tensor(shape: [0])  // (B, inputs)

    /// A dense layer with weights drawn by `initializer` and bias by `biasInitializer` (zeros
    /// unless told), in that order, from `rng`.
    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true,
                initializer: Initializer = .he, biasInitializer: Initializer = .zeros,
                rng: inout RandomSource) {
        self.inputs = inputs
        self.outputs = outputs
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

    public var summary: String { "Dense(\(inputs) → \(outputs)\(bias == nil ? ", no bias" : ""))" }

    public var spec: LayerSpec { .dense(inputs: inputs, outputs: outputs, bias: bias != nil) }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.reduce(1, *) == inputs else {
            throw .invalidArchitecture("\(summary) takes \(inputs) inputs, got shape \(input)")
        }
        return [outputs]
    }

    // MARK: - Forward and backward

    // x: (B, inputs) -> y: (B, outputs)
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, then: nil) }

    // dy: (B, outputs) -> dx: (B, inputs); dW += xᵀ · dy, db += Σ_b dy
    public func backward(_ dy: Tensor) -> Tensor? { backward(dy, through: nil) }

    // MARK: - Fused with the activation that follows

    /// y = f(x · W + b): the bias and `activation` applied by the multiply as it writes each
    /// row of y. The same values as this layer's forward, then the activation layer's.
    // x: (B, inputs) -> y: (B, outputs)
    public func forward(_ x: Tensor, then activation: Activation?) -> Tensor {
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

    /// The backward of `forward(_:then:)`: dz = dy · f'(z), written from the output y, then
    /// this layer's backward with dz.
    // dy: (B, outputs) -> dx: (B, inputs); dW += xᵀ · dz, db += Σ_b dz
    public func backward(_ dy: Tensor, through activation: Activation?) -> Tensor? {
        guard let x else { preconditionFailure("\(summary): backward before forward") }
        let batch = x.rows
        var dzData = dy.data
        if let activation {
            dz.reshape(rows: batch, columns: outputs)
            activation.backward(y: y.data, dy: dy.data, dx: dz.data, batch * outputs)
            dzData = dz.data
        }
        let overwrite = overwritesGradients
        overwritesGradients = false
        // dW (inputs, outputs) += xᵀ (inputs, B) · dz (B, outputs), or = when overwriting
        GEMM.multiply(transA: true, m: inputs, n: outputs, k: batch,
                      a: x.data, lda: inputs, b: dzData, ldb: outputs,
                      beta: overwrite ? 0 : 1, c: weight.grad.data, ldc: outputs)
        if let bias {
            // db[j] += Σ_b dz[b, j], or = when overwriting
            let db = bias.grad.data
            if overwrite { db.update(repeating: 0, count: outputs) }
            for b in 0..<batch { VectorOps.add(dzData + b * outputs, into: db, outputs) }
        }
        guard computesInputGradient else { return nil }
        // dx (B, inputs) = dz (B, outputs) · Wᵀ (outputs, inputs)
        dx.reshape(rows: batch, columns: inputs)
        GEMM.multiply(transB: true, m: batch, n: inputs, k: outputs,
                      a: dzData, lda: outputs, b: weight.value.data, ldb: outputs,
                      c: dx.data, ldc: inputs)
        return dx
    }
}
