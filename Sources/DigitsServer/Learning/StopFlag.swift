import DigitsCore
import Foundation

/// A request to stop training, set from another thread (a page's "Stop" button, a time budget).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}

    /// Asks training to stop before its next step.
    public func stop() { lock.withLock { stopped = true } }
    /// Whether a stop was asked for.
    public var isStopped: Bool { lock.withLock { stopped } }
}

/// A loss that behaves as `inner` until `flag` is set, then reports a non-finite loss so that
/// the core's `Trainer` ends the run before its next optimiser step (it stops on a loss that
/// is not finite, naming the step). The weights are those after the last complete step.
///
/// This is how the studio stops training from outside without changing the core's API.
final class StoppableLoss: Loss {
    let inner: any Loss
    let flag: StopFlag

    init(_ inner: any Loss, flag: StopFlag) {
        self.inner = inner
        self.flag = flag
    }

    var name: String { inner.name }

    // output: (B, K), labels: B -> gradient: (B, K)
    func forwardBackward(output: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>,
                         gradientScale: Float) -> Tensor {
        let gradient = inner.forwardBackward(output: output, labels: labels, perSample: perSample, gradientScale: gradientScale)
        if flag.isStopped { perSample[0] = .nan }
        return gradient
    }

    func forward(output: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>) {
        inner.forward(output: output, labels: labels, perSample: perSample)
    }
}
