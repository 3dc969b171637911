/// The learning rate as a function of the step (0-based), over `totalSteps` steps of training.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The same rate throughout.
    case constant
    /// Multiplied by `gamma` every `every` steps.
    case step(every: Int, gamma: Float)
    /// Cosine decay from the base rate to `minFactor`·base at the last step.
    case cosine(minFactor: Float)
    /// One-cycle (Smith): a linear warm-up from base/`divFactor` to base over the first
    /// `warmup` fraction of steps, then cosine annealing down to base/`finalDivFactor`.
    case oneCycle(warmup: Float, divFactor: Float, finalDivFactor: Float)

    /// One-cycle with PyTorch's defaults: 30 % warm-up, from base/25 to base/10⁴·25.
    public static let oneCycleDefault = LearningRateSchedule.oneCycle(warmup: 0.3, divFactor: 25, finalDivFactor: 1e4)

    /// The rate at `step` of `totalSteps`, for a base rate `base`.
    public func rate(base: Float, step: Int, totalSteps: Int) -> Float {
        let total = max(totalSteps, 1)
        switch self {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * Float(Math.pow(Double(gamma), Double(step / max(every, 1))))
        case .cosine(let minFactor):
            let progress = Double(min(step, total - 1)) / Double(max(total - 1, 1))
            let factor = Double(minFactor) + (1 - Double(minFactor)) * 0.5 * (1 + Math.cos(Double.pi * progress))
            return base * Float(factor)
        case let .oneCycle(warmup, div, finalDiv):
            let start = Double(base) / Double(div), end = start / Double(finalDiv)
            let warmSteps = max(Double(warmup) * Double(total) - 1, 1)
            let s = Double(step)
            if s <= warmSteps {
                return Float(start + (Double(base) - start) * s / warmSteps)
            }
            let progress = min((s - warmSteps) / max(Double(total - 1) - warmSteps, 1), 1)
            return Float(end + (Double(base) - end) * 0.5 * (1 + Math.cos(Double.pi * progress)))
        }
    }

    /// A short description: "cosine", "step(every 3 epochs, ×0.1)".
    public var name: String {
        switch self {
        case .constant: "constant"
        case let .step(every, gamma): "step(every \(every) steps, ×\(gamma))"
        case .cosine(let m): m == 0 ? "cosine" : "cosine(to ×\(m))"
        case .oneCycle: "one-cycle"
        }
    }
}
