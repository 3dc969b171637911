import DigitsCore
import DigitsModelFile

/// The tutorials' quirks that are not textbook math, as layers of their own, so that the core's
/// layers stay one formula each. Each is saved in a model file as a `LayerSpec.custom` layer
/// under its `name`, and `TutorialQuirks.makeLayer` builds it back.
public enum TutorialQuirks {
    /// Builds the custom layers of the tutorial presets: pass it to `Sequential(specs:custom:)`
    /// and `Safetensors.load(from:custom:)`.
    public static func makeLayer(_ name: String, _ sizes: [Int], _ context: CustomLayerContext,
                                 _ rng: inout RandomSource) throws(ModelError) -> any Layer {
        switch name {
        case BiasWithMeanGradient.name:
            guard sizes.count == 2, sizes[0] > 0, sizes[1] > 0 else {
                throw .invalidArchitecture("\(name) needs sizes [inputs, units], got \(sizes)")
            }
            return BiasWithMeanGradient(units: sizes[1], fanIn: sizes[0], initializer: context.biasInitializer, rng: &rng)
        case SoftmaxWithDiagonalGradient.name:
            return SoftmaxWithDiagonalGradient()
        default:
            throw .invalidArchitecture("unknown layer \"\(name)\"")
        }
    }
}

/// How the biases of a fully connected recipe learn.
public enum BiasGradient: String, Sendable, CaseIterable {
    /// db[j] = Σ_b dz[b, j]: the true gradient, `Dense`'s own bias.
    case perUnit = "per_unit"
    /// Every bias moves by the mean of the batch's whole gradient (`BiasWithMeanGradient`), a
    /// tutorial's quirk.
    case scalarMean = "scalar_mean"

    /// The layers of a dense layer with this kind of bias: `Dense` with its bias, or `Dense`
    /// without one followed by `BiasWithMeanGradient`.
    public func dense(inputs: Int, outputs: Int, bias: Bool) -> [LayerSpec] {
        guard bias, self == .scalarMean else { return [.dense(inputs: inputs, outputs: outputs, bias: bias)] }
        return [.dense(inputs: inputs, outputs: outputs, bias: false),
                .custom(name: BiasWithMeanGradient.name, sizes: [inputs, outputs])]
    }
}

/// A bias, y = x + b, whose every value moves by the mean of the whole batch's gradient:
/// db[j] += mean over b and k of dy[b, k], one number for all units. It is the
/// `tutorial-leaky-256-128` tutorial's `b -= lr * np.mean(error)`; the true gradient is
/// db[j] = Σ_b dy[b, j] (`Dense`'s own bias). Placed after a dense layer without bias.
public final class BiasWithMeanGradient: Layer {
    /// Its name in model files.
    public static let name = LegacyLayers.biasWithMeanGradient

    public let units: Int
    /// The fan-in of the dense layer before it, for the initialiser.
    public let fanIn: Int
    /// The bias, `(units)`.
    public let bias: Parameter
    public var computesInputGradient = true
    private let y = Tensor(shape: [0])

    /// A bias of `units` values drawn by `initializer` (zeros unless told).
    public init(units: Int, fanIn: Int, initializer: Initializer = .zeros, rng: inout RandomSource) {
        self.units = units
        self.fanIn = fanIn
        let b = Tensor(shape: [units])
        initializer.fill(b, fanIn: fanIn, fanOut: units, rng: &rng)
        self.bias = Parameter(name: "bias", value: b, decays: false)
    }

    public var summary: String { "BiasWithMeanGradient(\(units))" }
    public var spec: LayerSpec { .custom(name: Self.name, sizes: [fanIn, units]) }
    public var parameters: [Parameter] { [bias] }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input == [units] else { throw .invalidArchitecture("\(summary) takes \(units) inputs, got shape \(input)") }
        return input
    }

    // x: (B, units) -> y = x + b: (B, units)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        let b = bias.value.data
        for r in 0..<x.rows {
            let from = x.data + r * units, to = y.data + r * units
            for j in 0..<units { to[j] = from[j] + b[j] }
        }
        return y
    }

    // dy: (B, units) -> dx = dy; every db[j] += mean(dy)
    public func backward(_ dy: Tensor) -> Tensor? {
        var sum: Float = 0
        for i in 0..<dy.count { sum += dy.data[i] }
        let mean = sum / Float(dy.count)
        let db = bias.grad.data
        for j in 0..<units { db[j] += mean }
        return computesInputGradient ? dy : nil
    }
}

/// Softmax over the last axis, differentiated through only its Jacobian's diagonal:
/// dx = dy ⊙ y ⊙ (1 − y). Wrong in general (the true gradient is `Softmax`'s), but it is what
/// the `tutorial-leaky-256-128` tutorial does, and followed by binary cross-entropy it happens
/// to give exactly p − target.
public final class SoftmaxWithDiagonalGradient: Layer {
    /// Its name in model files.
    public static let name = LegacyLayers.softmaxWithDiagonalGradient

    public var computesInputGradient = true
    private let y = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])

    public init() {}

    public var summary: String { "Softmax(diagonal gradient)" }
    public var spec: LayerSpec { .custom(name: Self.name, sizes: []) }
    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // x: (B, K) -> y: (B, K), each row summing to 1
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        let k = x.columns
        for b in 0..<x.rows { Softmax.row(x.data + b * k, y.data + b * k, k) }
        return y
    }

    // dy: (B, K) -> dx = dy ⊙ y ⊙ (1 − y)
    public func backward(_ dy: Tensor) -> Tensor? {
        guard computesInputGradient else { return nil }
        dx.reshape(to: dy.shape)
        let yData = y.data, dyData = dy.data, dxData = dx.data
        for i in 0..<dy.count { dxData[i] = dyData[i] * yData[i] * (1 - yData[i]) }
        return dx
    }
}
