import DigitsApp
import Foundation

/// A one-line progress bar on standard error, redrawn in place at most ten times a second:
///
///     epoch 3/10 [##########..........]  50%  30,000/60,000  412,000 samples/s  ETA 0.1 s
struct ProgressBar {
    private var lastDraw = ContinuousClock.now
    private var drawn = false
    private let width = 24

    /// Redraws for `done` of `total` steps; `samples` in `seconds` give the rate.
    mutating func update(label: String, done: Int, total: Int, samples: Int, seconds: Double) {
        let now = ContinuousClock.now
        guard done == total || now - lastDraw > .milliseconds(100) else { return }
        lastDraw = now
        let fraction = Double(done) / Double(max(total, 1))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = seconds > 0 ? Double(samples) / seconds : 0
        let eta = fraction > 0 ? seconds / fraction - seconds : 0
        let line = String(format: "%@ [%@] %3d%%  %@ samples/s  ETA %.1f s", label, bar, Int(fraction * 100),
                          Format.thousands(Int(rate)), eta)
        Console.err("\r" + line + "\u{1B}[K")
        drawn = true
    }

    /// Erases the bar so that the next line prints cleanly.
    mutating func clear() {
        if drawn { Console.err("\r\u{1B}[K") }
        drawn = false
    }
}
