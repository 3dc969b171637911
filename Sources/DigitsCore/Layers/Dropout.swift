/// Inverted dropout: in training each value is zeroed with probability `rate` and the rest are
/// scaled by 1/(1 − rate), so that inference is the identity.
///
/// The mask is drawn from the layer's own seeded `RandomSource`, so a run is reproducible.
public final class Dropout: Layer {
    /// The probability that a value is dropped, in [0, 1).
    public let rate: Float
    public var computesInputGradient = true
    /// When true, training reuses the last mask instead of drawing a new one (for gradient checks).
    public var freezesMask = false

    private var rng: RandomSource
    private var training = false
    private let mask = Tensor(shape: [0])  // (B, …): 0 or 1/(1 − rate)
    private let y = Tensor(shape: [0])     // (B, …)
    private let dx = Tensor(shape: [0])    // (B, …)

    /// Dropout of `rate`, its masks drawn from `rng`.
    public init(rate: Float, rng: RandomSource) {
        self.rate = rate
        self.rng = rng
    }

    public var summary: String { "Dropout(\(FloatText.shortest(rate)))" }
    public var spec: LayerSpec { .dropout(rate: rate) }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // MARK: - Forward and backward

    // x: (B, …) -> y: (B, …) = x ⊙ mask in training, x at inference
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        self.training = training
        y.reshape(to: x.shape)
        guard training, rate > 0 else {
            y.data.update(from: x.data, count: x.count)
            return y
        }
        if !(freezesMask && mask.shape == x.shape) {
            mask.reshape(to: x.shape)
            let keep = 1 / (1 - rate), m = mask.data
            for i in 0..<x.count { m[i] = rng.nextUnit() < rate ? 0 : keep }
        }
        let m = mask.data
        for i in 0..<x.count { y.data[i] = x.data[i] * m[i] }
        return y
    }

    // dy: (B, …) -> dx = dy ⊙ mask
    public func backward(_ dy: Tensor) -> Tensor? {
        dx.reshape(to: dy.shape)
        guard computesInputGradient else { return nil }
        if training && rate > 0 {
            for i in 0..<dy.count { dx.data[i] = dy.data[i] * mask.data[i] }
        } else {
            dx.data.update(from: dy.data, count: dy.count)
        }
        return dx
    }
}
