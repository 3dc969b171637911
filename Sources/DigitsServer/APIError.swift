import Hummingbird

/// A request the studio refuses, with the HTTP status and a message saying what is wrong.
/// Sent as `{"error": "..."}`.
public struct APIError: Error, Equatable, Sendable {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }
}
