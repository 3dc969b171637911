#if !hasFeature(Embedded)
/// The machine's single-precision fused multiply-add throughput, measured with a tight loop of
/// independent vector FMAs: the ceiling any matrix multiply on this machine can approach.
///
/// It lives in the core so that it is compiled with the same vector flags as the kernels.
public enum FMAPeak {
    /// GFLOP/s (an FMA counts as 2 flops) of `threads` threads running the loop at once, the best
    /// of `repeats` runs of `iterations` loop turns each.
    public static func measure(threads: Int = 1, repeats: Int = 5, iterations: Int = 4_000_000) -> Double {
        var best = 0.0
        let flopsPerThread = Double(iterations) * Double(accumulators * SIMD8<Float>.scalarCount * 2)
        for _ in 0..<repeats {
            let start = Stopwatch()
            if threads <= 1 {
                sink(loop(iterations))
            } else {
                var count = iterations
                let pool = WorkerPool.shared(threads: threads - 1)
                withUnsafePointer(to: &count) { pool.run(parts: threads, context: UnsafeRawPointer($0), peakPart) }
            }
            let seconds = start.elapsedSeconds
            best = max(best, flopsPerThread * Double(threads) / seconds / 1e9)
        }
        return best
    }

    /// Independent dependency chains: enough to cover the FMA latency on both FMA pipes.
    static let accumulators = 12

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

/// One thread's share of a two-thread peak measurement: the loop, `context` iterations long.
private func peakPart(_ context: UnsafeRawPointer, _ part: Int) {
    FMAPeak.sink(FMAPeak.loop(context.assumingMemoryBound(to: Int.self).pointee))
}
#endif
