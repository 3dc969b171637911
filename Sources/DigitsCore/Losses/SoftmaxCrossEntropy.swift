/// Softmax followed by cross-entropy, fused: takes raw scores (logits) and computes
/// −log softmax(z)[label] stably as logsumexp(z) − z[label]. Its gradient is simply
/// softmax(z) − onehot(label).
public final class SoftmaxCrossEntropy: Loss {
    private let grad = Tensor(shape: [0])
    public init() {}
    public var name: String { "softmax_cross_entropy" }

    // z: (B, K), labels: (B) -> loss: (B); dz = (softmax(z) − onehot) · scale
    public func forwardBackward(output z: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>,
                                gradientScale: Float) -> Tensor {
        grad.reshape(to: z.shape)
        let k = z.columns
        for b in 0..<z.rows {
            let zr = z.data + b * k, g = grad.data + b * k
            Softmax.row(zr, g, k)
            let y = Int(labels[b])
            perSample[b] = SoftmaxCrossEntropy.sampleLoss(zr, k, y)
            g[y] -= 1
            for j in 0..<k { g[j] *= gradientScale }
        }
        return grad
    }

    public func forward(output z: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>) {
        let k = z.columns
        for b in 0..<z.rows { perSample[b] = SoftmaxCrossEntropy.sampleLoss(z.data + b * k, k, Int(labels[b])) }
    }

    /// logsumexp(z) − z[y], shifted by max(z).
    @inlinable
    static func sampleLoss(_ z: UnsafePointer<Float>, _ k: Int, _ y: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, z[j]) }
        var sum: Float = 0
        for j in 0..<k { sum += Math.exp(z[j] - m) }
        return Math.log(sum) + m - z[y]
    }
}
