/// How a loss combines the samples of a batch.
public enum Reduction: String, Sendable, CaseIterable {
    /// The mean over the batch: the usual choice; the learning rate does not depend on batch size.
    case mean
    /// The sum over the batch, as some tutorials do (their gradients grow with the batch).
    case sum
}

/// A training objective: compares a network's output with the labels and gives the gradient
/// with respect to that output.
public protocol Loss: AnyObject {
    /// A short name: "softmax_cross_entropy", "mse", "bce".
    var name: String { get }

    /// The loss of each sample is written to `perSample` (length B), and the gradient
    /// d(loss)/d(output) to the returned tensor, each sample's gradient multiplied by
    /// `gradientScale` (1/B for a mean over a batch of B, 1 for a sum).
    ///
    /// output: (B, K), labels: B class indices in 0..<K -> gradient: (B, K)
    func forwardBackward(output: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>,
                         gradientScale: Float) -> Tensor

    /// The loss of each sample only (for evaluation).
    func forward(output: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>)
}
