/// Flattens each sample to one axis: (B, C, H, W) -> (B, C·H·W), the values unchanged, so that a
/// dense layer can follow a convolutional stack.
public final class Flatten: Layer {
    public var computesInputGradient = true
    private var inShape: [Int] = []
    private let y = Tensor(shape: [0])   // (B, C·H·W)
    private let dx = Tensor(shape: [0])  // (B, C, H, W)

    public init() {}

    public var summary: String { "Flatten" }
    public var spec: LayerSpec { .flatten }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { [input.reduce(1, *)] }

    // MARK: - Forward and backward

    // x: (B, C, H, W) -> y: (B, C·H·W)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inShape = x.shape
        y.reshape(rows: x.rows, columns: x.columns)
        y.data.update(from: x.data, count: x.count)
        return y
    }

    // dy: (B, C·H·W) -> dx: (B, C, H, W)
    public func backward(_ dy: Tensor) -> Tensor? {
        dx.reshape(to: inShape)
        guard computesInputGradient else { return nil }
        dx.data.update(from: dy.data, count: dx.count)
        return dx
    }
}
