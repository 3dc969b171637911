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
/// `run(parts:context:body)` calls `body(context, 0)`, `body(context, 1)`, … on the calling
/// thread and the workers, whichever claims each part first, and returns when every part is
/// done. A job allocates nothing. Only one job runs at a time: a
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
    /// A job's work: part `part` of the job whose state `context` points to.
    typealias JobFunction = @convention(c) (_ context: UnsafeRawPointer, _ part: Int) -> Void

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
    /// The current job's id (its generation) and how many of its parts have been claimed.
    private let claims = Atomic<Int>(0)
    /// Parts finished by workers.
    private let done = Atomic<Int>(0)
    /// Whether a job is running.
    private let busy = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var sleepers = 0
    /// Workers started so far.
    private let workerCount = Atomic<Int>(0)
    /// The current job: a function of (context, part), and its context.
    private var function: JobFunction?
    private var context: UnsafeRawPointer?

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    /// Whether a job is running. A part that multiplies checks this: a product started inside a
    /// job would run all its parts on its own thread anyway, so it is better not split at all.
    var isBusy: Bool { busy.load(ordering: .relaxed) }

    /// Runs `body(0..<parts)`. Parts are claimed one at a time by whoever is free: the caller
    /// starts with part 0 and goes on claiming, so a worker that the scheduler has not woken
    /// (another program on the CPU) never holds the caller up; it only waits for a part a
    /// worker is in the middle of.
    ///
    /// The job is a C function and a pointer to its context rather than a closure, so that
    /// posting it to another thread allocates nothing.
    func run(parts: Int, context: UnsafeRawPointer, _ body: JobFunction) {
        guard parts > 1, parts < 1 << 16, workerCount.load(ordering: .acquiring) >= 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for part in 0..<parts { body(context, part) }
            return
        }
        do {
            function = body
            self.context = context
            done.store(0, ordering: .relaxed)
            let id = generation.load(ordering: .relaxed) + 1
            // The job's id, its number of parts and how many are claimed, in one word, so that
            // a worker still looking at an earlier job can never claim a part of this one by
            // mistake. Part 0 is ours.
            claims.store(id << 32 | parts << 16 | 1, ordering: .releasing)
            generation.store(id, ordering: .releasing)
            pthread_mutex_lock(&mutex)
            if sleepers > 0 { pthread_cond_broadcast(&condition) }
            pthread_mutex_unlock(&mutex)
            var finished = 0
            body(context, 0)
            finished += 1
            while let part = claim(id: id) {
                body(context, part)
                finished += 1
            }
            var spins = 0
            while done.load(ordering: .acquiring) + finished < parts {
                spins += 1
                if spins > 64 { sched_yield() }
            }
            function = nil
            self.context = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// The next unclaimed part of job `id`, or nil when all are claimed (or the job is over).
    @inline(__always)
    private func claim(id: Int) -> Int? {
        var state = claims.load(ordering: .acquiring)
        while state >> 32 == id && state & 0xffff < (state >> 16) & 0xffff {
            let (exchanged, original) = claims.compareExchange(expected: state, desired: state + 1, ordering: .acquiringAndReleasing)
            if exchanged { return state & 0xffff }
            state = original
        }
        return nil
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

    /// Runs this worker's part of the current job.
    @inline(never)
    private func runPart(_ index: Int) {
        if let function, let context { function(context, index) }
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
            while let part = claim(id: current) {
                runPart(part)
                done.add(1, ordering: .releasing)
            }
        }
    }
    #else
    private init() {}
    var isBusy: Bool { false }
    func run(parts: Int, context: UnsafeRawPointer, _ body: JobFunction) {
        for part in 0..<parts { body(context, part) }
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
