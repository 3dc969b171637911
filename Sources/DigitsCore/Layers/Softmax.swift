/// Softmax over the last axis: y[i] = e^x[i] / Σ_j e^x[j], turning scores into probabilities.
///
/// For training a classifier, prefer no softmax layer and the fused
/// `SoftmaxCrossEntropy` loss, which is faster and numerically safer. This layer is for networks
/// that output probabilities, as some of the tutorials do.
public final class Softmax: Layer {
    public var computesInputGradient = true
    private let y = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])

    public init() {}

    public var summary: String { "Softmax" }
    public var spec: LayerSpec { .softmax }
    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // x: (B, K) -> y: (B, K), each row summing to 1
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        let k = x.columns
        for b in 0..<x.rows {
            Softmax.row(x.data + b * k, y.data + b * k, k)
        }
        return y
    }

    /// Softmax of one row of k values, shifted by the row's maximum so that exp cannot overflow.
    @inlinable
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ k: Int) {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, x[j]) }
        var sum: Float = 0
        for j in 0..<k { let e = Math.exp(x[j] - m); y[j] = e; sum += e }
        let inv = 1 / sum
        for j in 0..<k { y[j] *= inv }
    }

    // dy: (B, K) -> dx = y ⊙ (dy − Σ_j dy_j·y_j), row by row (the Jacobian diag(y) − y·yᵀ times dy)
    public func backward(_ dy: Tensor) -> Tensor? {
        guard computesInputGradient else { return nil }
        dx.reshape(to: dy.shape)
        let k = dy.columns
        for b in 0..<dy.rows {
            let yr = y.data + b * k, dyr = dy.data + b * k, dxr = dx.data + b * k
            var dot: Float = 0
            for j in 0..<k { dot += dyr[j] * yr[j] }
            for j in 0..<k { dxr[j] = yr[j] * (dyr[j] - dot) }
        }
        return dx
    }
}
