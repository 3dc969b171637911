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

extension APIError {
    /// The status and message of a refused request body.
    init(_ refusal: RequestDecoding.Refusal) {
        self.init(HTTPResponse.Status(code: refusal.status), refusal.message)
    }
}

extension Names {
    /// `name`, or a 400 error saying what a name may hold.
    @inline(never)  // see `API.decode(_:_:allowEmpty:)`
    static func checked(_ name: String, what: String) throws(APIError) -> String {
        do { return try RequestDecoding.name(name, what: what) } catch { throw APIError(error) }
    }
}
