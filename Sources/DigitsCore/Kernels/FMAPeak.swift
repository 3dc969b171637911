#if !hasFeature(Embedded)
/// The machine's single-precision fused multiply-add throughput, measured with a tight loop of
/// independent vector FMAs: the ceiling any matrix multiply on this machine can approach.
///
/// It lives in the core so that it is compiled with the same vector flags as the kernels.
public enum FMAPeak {
    /// GFLOP/s (an FMA counts as 2 flops) of `threads` threads running the loop at once, the best
    /// of `repeats` runs of `iterations` loop turns each.
    ///
    /// With `wide` (the default) and a `wideLoop` set, the loop is that one, at the width of the
    /// kernels in use (`lanes`), so that shares of this peak stay honest; otherwise the core's
    /// own 8-lane loop.
    public static func measure(threads: Int = 1, repeats: Int = 5, iterations: Int = 4_000_000, wide: Bool = true) -> Double {
        var best = 0.0
        let wideLoop = wide ? self.wideLoop : nil
        let width = wideLoop == nil ? SIMD8<Float>.scalarCount : wideLanes
        let flopsPerThread = Double(iterations) * Double(accumulators * width * 2)
        for _ in 0..<repeats {
            let start = Stopwatch()
            if threads <= 1 {
                sink(wideLoop.map { $0(iterations) } ?? loop(iterations))
            } else {
                var job = PeakJob(iterations: iterations, wideLoop: wideLoop)
                let pool = WorkerPool.shared(threads: threads - 1)
                withUnsafePointer(to: &job) { pool.run(parts: threads, context: UnsafeRawPointer($0), peakPart) }
            }
            let seconds = start.elapsedSeconds
            best = max(best, flopsPerThread * Double(threads) / seconds / 1e9)
        }
        return best
    }

    /// Independent dependency chains: enough to cover the FMA latency on both FMA pipes.
    static let accumulators = 12

    /// The same loop at a wider vector width (`wideLanes` lanes, `accumulators` chains), set by
    /// the edge module that sets `SIMDGEMM.defaultWideTiles` (DigitsAVX512), or nil.
    nonisolated(unsafe) public static var wideLoop: (@convention(c) (Int) -> Float)?
    /// The lanes of `wideLoop`'s vectors.
    nonisolated(unsafe) public static var wideLanes = 16

    /// The vector width `measure` uses by default, in Float lanes: 8, or `wideLanes` with a
    /// `wideLoop`.
    public static var lanes: Int { wideLoop == nil ? SIMD8<Float>.scalarCount : wideLanes }

    /// `iterations` turns of 12 independent 8-lane FMAs.
    @inline(never)
    static func loop(_ iterations: Int) -> Float {
        let x = SIMD8<Float>(repeating: 0.999_999), y = SIMD8<Float>(repeating: 1e-7)
        var a0 = SIMD8<Float>(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
        var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
        for _ in 0..<iterations {
            a0 = madd(y, a0, x); a1 = madd(y, a1, x); a2 = madd(y, a2, x); a3 = madd(y, a3, x)
            a4 = madd(y, a4, x); a5 = madd(y, a5, x); a6 = madd(y, a6, x); a7 = madd(y, a7, x)
            a8 = madd(y, a8, x); a9 = madd(y, a9, x); a10 = madd(y, a10, x); a11 = madd(y, a11, x)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    }

    /// Keeps a result alive so that the loop is not optimised away.
    @inline(never)
    static func sink(_ value: Float) {
        if value == -1 { print("") }
    }
}

/// A peak measurement's loop, as handed to each thread.
private struct PeakJob {
    var iterations: Int
    var wideLoop: (@convention(c) (Int) -> Float)?
}

/// One thread's share of a two-thread peak measurement: the loop, `iterations` long.
private func peakPart(_ context: UnsafeRawPointer, _ part: Int) {
    let job = context.assumingMemoryBound(to: PeakJob.self).pointee
    FMAPeak.sink(job.wideLoop.map { $0(job.iterations) } ?? FMAPeak.loop(job.iterations))
}
#endif
