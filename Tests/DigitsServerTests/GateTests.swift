import Foundation
import Testing

@testable import DigitsServer

@Suite("Gate")
struct GateTests {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var now = 0, most = 0, done = 0
    }

    @Test("At most `limit` bodies run at once, and every one runs", arguments: [1, 2, 3])
    func limits(limit: Int) async {
        let gate = Gate(limit: limit), counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    await gate.run {
                        counter.lock.withLock { counter.now += 1; counter.most = max(counter.most, counter.now) }
                        usleep(5_000)
                        counter.lock.withLock { counter.now -= 1; counter.done += 1 }
                    }
                }
            }
        }
        #expect(counter.done == 12)
        #expect(counter.most <= limit)
        #expect(counter.most >= 1)
    }
}
