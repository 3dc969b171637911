import Foundation

// MARK: - AxisTicks

/// "Nice" tick positions for an axis: steps of 1, 2 or 5 times a power of ten, covering the
/// data, with labels that show just enough decimals.
public struct AxisTicks: Sendable, Equatable {
    /// The axis range, from the first tick to the last.
    public var range: ClosedRange<Double>
    /// Tick positions, increasing.
    public var values: [Double]
    /// Distance between ticks.
    public var step: Double

    /// Ticks covering `low…high` with about `count` intervals (at least 2).
    public init(covering low: Double, _ high: Double, count: Int = 5) {
        var lo = low.isFinite ? low : 0, hi = high.isFinite ? high : 1
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < 1e-12 {
            let pad = abs(lo) > 1e-12 ? abs(lo) * 0.1 : 1
            lo -= pad
            hi += pad
        }
        let step = AxisTicks.niceStep((hi - lo) / Double(max(2, count)))
        let first = (lo / step).rounded(.down) * step
        let last = (hi / step).rounded(.up) * step
        var values: [Double] = []
        var v = first
        while v <= last + step * 0.5 && values.count < 100 {
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        self.step = step
        self.values = values
        self.range = first...max(first + step, values.last ?? last)
    }

    /// The smallest of 1, 2, 5 × 10ⁿ not below `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        for multiple in [1.0, 2, 5, 10] where multiple * power >= raw * (1 - 1e-9) { return multiple * power }
        return 10 * power
    }

    /// `value` with as many decimals as the step needs.
    public func label(_ value: Double) -> String {
        let decimals = max(0, min(6, Int((-log10(step)).rounded(.up))))
        var text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-") && Double(text) == 0 { text.removeFirst() }
        return text
    }

    /// Labels for all ticks.
    public var labels: [String] { values.map(label) }
}
