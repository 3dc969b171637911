// MARK: - Elapsed time

/// Seconds since it was made, for training reports. In Embedded Swift, which has no clock
/// without an operating system, it always reads 0.
public struct Stopwatch: Sendable {
    #if hasFeature(Embedded)
    public init() {}
    /// Seconds since `init`.
    public var elapsedSeconds: Double { 0 }
    #else
    private let start = ContinuousClock.now
    public init() {}
    /// Seconds since `init`.
    public var elapsedSeconds: Double { start.elapsedSeconds }
    #endif
}

#if !hasFeature(Embedded)
extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

extension ContinuousClock.Instant {
    /// Seconds from this instant to now.
    public var elapsedSeconds: Double { (ContinuousClock.now - self).seconds }
}
#endif
