#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if os(Linux)
import Synchronization
#endif

/// A few long-lived worker threads that run the parts of one job beside the calling thread.
///
/// `run(parts:body)` calls `body(0)` on the calling thread and `body(1)`, … on workers, and
/// returns when every part is done. A job allocates nothing. Only one job runs at a time: a
/// caller that finds the pool busy (a multiply started from two threads at once) runs all its
/// parts itself, which gives the same results because parts never share outputs.
///
/// Workers spin briefly after a job (about a millisecond, yielding the CPU), since the next
/// multiply of a training step usually follows within microseconds, then sleep on a condition
/// variable.
///
/// On platforms without the `Synchronization` atomics used here (before macOS 15), every part
/// runs on the calling thread.
final class WorkerPool: @unchecked Sendable {
    /// The process-wide pool, grown to `threads` workers on demand (never shrunk).
    static func shared(threads: Int) -> WorkerPool {
        let pool = WorkerPool.instance
        pool.ensureWorkers(threads)
        return pool
    }

    private static let instance = WorkerPool()

    #if os(Linux)
    /// Bumped to start a job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Parts not yet finished by workers.
    private let remaining = Atomic<Int>(0)
    /// Whether a job is running.
    private let busy = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var sleepers = 0
    /// Workers started so far.
    private let workerCount = Atomic<Int>(0)
    private var job: ((Int) -> Void)?
    private var parts = 0

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    /// Runs `body(0..<parts)`, part 0 here and the others on workers.
    func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, workerCount.load(ordering: .acquiring) >= parts - 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            self.parts = parts
            remaining.store(parts - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            pthread_mutex_lock(&mutex)
            if sleepers > 0 { pthread_cond_broadcast(&condition) }
            pthread_mutex_unlock(&mutex)
            body(0)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    private func ensureWorkers(_ count: Int) {
        guard workerCount.load(ordering: .acquiring) < count else { return }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while workerCount.load(ordering: .relaxed) < count {
            // The worker must not take a job posted before it was counted for one that it has
            // seen: it starts from the generation current before it becomes visible to `run`.
            let index = workerCount.load(ordering: .relaxed) + 1
            let context = WorkerContext(pool: self, index: index, generation: generation.load(ordering: .acquiring))
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(index: context.index, seen: context.generation)
            }, Unmanaged.passRetained(context).toOpaque())
            precondition(status == 0, "could not start a worker thread")
            pthread_detach(thread)
            workerCount.store(index, ordering: .releasing)
        }
    }

    /// Runs this worker's part of the current job. Not inlined, so that the worker's reference
    /// to the job's closure is released before the part is counted as done: `run` requires the
    /// closure to be unreferenced when it returns.
    @inline(never)
    private func runPart(_ index: Int) {
        job?(index)
    }

    /// A worker: waits for each new generation and runs its part of it, if it has one.
    private func workerLoop(index: Int, seen start: Int) -> Never {
        var seen = start
        while true {
            var current = generation.load(ordering: .acquiring)
            var spins = 0
            while current == seen && spins < 2_000 {
                spins += 1
                if spins > 256 { sched_yield() }
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                pthread_mutex_lock(&mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&condition, &mutex) }
                sleepers -= 1
                pthread_mutex_unlock(&mutex)
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if index < parts {
                runPart(index)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }
    #else
    private init() {}
    func run(parts: Int, _ body: (Int) -> Void) {
        for part in 0..<parts { body(part) }
    }
    private func ensureWorkers(_ count: Int) {}
    #endif
}

#if os(Linux)
private final class WorkerContext {
    let pool: WorkerPool
    let index: Int
    let generation: Int
    init(pool: WorkerPool, index: Int, generation: Int) {
        self.pool = pool; self.index = index; self.generation = generation
    }
}
#endif
