import Foundation

/// The training events of the current (or last) run, for every page that listens: a new
/// listener first gets what happened so far (the latest progress and every epoch), then
/// each new event as it comes. Events are JSON text, sent as server-sent events.
final class EventHub: @unchecked Sendable {
    private let lock = NSLock()
    private var history: [String] = []
    private var lastProgress: String?
    private var listeners: [UUID: AsyncStream<String>.Continuation] = [:]

    /// Forgets the previous run's events (a new run starts).
    func reset() { lock.withLock { history = []; lastProgress = nil } }

    /// Sends an event to every listener. Progress events replace each other in the history.
    func publish(_ json: String, isProgress: Bool = false) {
        let targets = lock.withLock {
            if isProgress { lastProgress = json } else { history.append(json); lastProgress = nil }
            return Array(listeners.values)
        }
        for t in targets { t.yield(json) }
    }

    /// A stream of events: the history first, then live events until the listener goes away.
    func subscribe() -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
        lock.withLock {
            for e in history { continuation.yield(e) }
            if let p = lastProgress { continuation.yield(p) }
            listeners[id] = continuation
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends an empty event (a keep-alive comment) to every listener.
    func ping() {
        for t in lock.withLock({ Array(listeners.values) }) { t.yield("") }
    }

    /// Ends every listener's stream (the server is shutting down).
    func finishAll() {
        for t in lock.withLock({ Array(listeners.values) }) { t.finish() }
    }

    /// How many pages listen (for tests).
    var listenerCount: Int { lock.withLock { listeners.count } }
}

/// Encodes an `Encodable` as one line of JSON.
func jsonLine(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
