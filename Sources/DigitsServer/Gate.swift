import Foundation

/// Lets at most `limit` tasks through at a time; the others wait their turn, in order.
///
/// Reading a picture is CPU work whose memory grows with the picture (a 5 MB PNG can hold
/// 50 megapixels): the gate bounds both to `limit` pictures at once, whatever the number of
/// connections.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `body` once a place is free.
    func run<T>(_ body: () throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted: Bool = lock.withLock {
                if running < limit { running += 1; return true }
                waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if waiting.isEmpty { running -= 1; return nil }
            return waiting.removeFirst()   // the place passes straight to the next in line
        }
        next?.resume()
    }
}
