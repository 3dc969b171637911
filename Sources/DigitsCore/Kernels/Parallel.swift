/// Work split across the threads the matrix multiply may use, for layers whose work is not a
/// multiply (im2col, batch normalisation, pooling) or is many small ones (a convolution's
/// per-sample products).
///
/// `forEach(parts)` runs `body(0)`, `body(1)`, … `body(parts − 1)`, on the calling thread and the
/// `WorkerPool`'s workers, and returns when all are done. The caller chooses the parts so that
/// they never write the same memory, and so that how the work is divided into parts does not
/// depend on the thread count: then results are the same bit for bit on any number of threads.
///
/// Inside a part, a `GEMM.multiply` runs on that part's thread alone (the pool is busy).
public enum Parallel {
    /// Sets the threads `forEach` uses in the current task, for tests that compare thread counts.
    #if hasFeature(Embedded)
    public static var threadCount: Int? { nil }
    #else
    @TaskLocal public static var threadCount: Int?
    #endif

    /// Threads `forEach` uses: the GEMM kernel's, unless `threadCount` says otherwise.
    public static var threads: Int { max(1, threadCount ?? GEMM.kernel.threads) }

    /// Runs `body(part)` for every part in `0..<parts`, in any order and on any thread.
    ///
    /// Allocates one small object when the parts are shared between threads: handing a
    /// non-escaping closure to another thread needs `withoutActuallyEscaping`, which boxes it so
    /// that it can check afterwards that the closure did not escape. On one thread, nothing.
    public static func forEach(_ parts: Int, _ body: (Int) -> Void) {
        let threads = self.threads
        guard parts > 1, threads > 1 else {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The closure is handed over by address, inside a struct: a function value stored
            // as a generic `T` would need a reabstraction thunk, allocated on the heap per call.
            withUnsafePointer(to: Job(body: body)) { pointer in
                WorkerPool.shared(threads: threads - 1).run(parts: parts, context: UnsafeRawPointer(pointer)) { context, part in
                    context.assumingMemoryBound(to: Job.self).pointee.body(part)
                }
            }
        }
    }

    /// A part's work, as the workers find it.
    private struct Job {
        let body: (Int) -> Void
    }

    /// Runs `body(range)` over `0..<count` cut into consecutive slices of at least `minimumSlice`
    /// values, at most `maximumParts` of them (one slice, on the calling thread, when `count`
    /// is small). For element-wise work, where how it is cut never changes a result.
    public static func forEachSlice(_ count: Int, minimumSlice: Int, maximumParts: Int = 8,
                                    _ body: (Range<Int>) -> Void) {
        let parts = min(maximumParts, count / max(minimumSlice, 1))
        guard parts > 1 else { body(0..<count); return }
        forEach(parts) { part in body(slice(part, of: parts, count: count)) }
    }

    /// The `part`-th of `parts` nearly equal consecutive slices of `0..<count`.
    @inlinable
    public static func slice(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }
}
