#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's single-precision fused multiply-add throughput, measured with a tight loop of
/// independent vector FMAs: the ceiling any matrix multiply on this machine can approach.
///
/// It lives in the core so that it is compiled with the same vector flags as the kernels.
public enum FMAPeak {
    /// GFLOP/s (an FMA counts as 2 flops) of `threads` threads running the loop at once, the best
    /// of `repeats` runs of `iterations` loop turns each.
    ///
    /// With two threads or more, a run counts only if every part ran on a thread of its own: a
    /// worker that the scheduler wakes late leaves its part to the calling thread, which would
    /// measure two threads as one. Such runs are made again, up to three times as many runs in
    /// all; if none counts, the best of them is returned.
    ///
    /// With `wide` (the default) and a `wideLoop` set, the loop is that one, at the width of the
    /// kernels in use (`lanes`), so that shares of this peak stay honest; otherwise the core's
    /// own 8-lane loop.
    public static func measure(threads: Int = 1, repeats: Int = 5, iterations: Int = 4_000_000, wide: Bool = true) -> Double {
        var best = 0.0
        let wideLoop = wide ? self.wideLoop : nil
        let width = wideLoop == nil ? SIMD8<Float>.scalarCount : wideLanes
        let flopsPerThread = Double(iterations) * Double(accumulators * width * 2)
        var counted = 0, bestOfAll = 0.0
        for _ in 0..<(threads <= 1 ? repeats : 3 * repeats) where counted < repeats {
            let start = Stopwatch()
            var apart = true
            if threads <= 1 {
                sink(wideLoop.map { $0(iterations) } ?? loop(iterations))
            } else {
                var job = PeakJob(iterations: iterations, wideLoop: wideLoop, caller: pthread_self())
                let pool = WorkerPool.shared(threads: threads - 1)
                withUnsafeMutablePointer(to: &job) { pool.run(parts: threads, context: UnsafeRawPointer($0), peakPart) }
                apart = !job.callerRanAnother
            }
            let rate = flopsPerThread * Double(threads) / start.elapsedSeconds / 1e9
            bestOfAll = max(bestOfAll, rate)
            if apart {
                best = max(best, rate)
                counted += 1
            }
        }
        return counted > 0 ? best : bestOfAll
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
    /// The thread that runs the job and part 0.
    var caller: pthread_t
    /// Whether the calling thread also ran a part other than 0 (written only by that thread).
    var callerRanAnother = false
}

/// One thread's share of a multi-thread peak measurement: the loop, `iterations` long.
private func peakPart(_ context: UnsafeRawPointer, _ part: Int) {
    let job = UnsafeMutableRawPointer(mutating: context).assumingMemoryBound(to: PeakJob.self)
    let (iterations, wideLoop) = (job.pointee.iterations, job.pointee.wideLoop)
    if part != 0 && pthread_equal(pthread_self(), job.pointee.caller) != 0 { job.pointee.callerRanAnother = true }
    FMAPeak.sink(wideLoop.map { $0(iterations) } ?? FMAPeak.loop(iterations))
}
#endif
