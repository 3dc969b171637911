// MARK: - Durations as seconds

extension Duration {
    /// The duration in seconds, as a `Double` (for rates and reports).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

extension ContinuousClock.Instant {
    /// Seconds from this instant until now.
    public var elapsedSeconds: Double { (ContinuousClock.now - self).seconds }
}
