import DigitsApp
import DigitsCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Digits Studio's HTTP interface: the page, its assets, and the JSON API (README.md, "Digits
/// Studio"). Every refused request gets a 4xx status and `{"error": "..."}` saying what is wrong.
public enum Studio {
    /// The largest request body accepted (413 above).
    public static let bodyLimit = 5 * 1024 * 1024
    static let tooLarge = "the request body is over the limit of \(bodyLimit / 1024 / 1024) MB"

    /// The router with every route, serving `state`; requests `sameOrigin` refuses get 403
    /// before any route runs.
    public static func router(state: StudioState, assets: Assets = .bundled,
                              sameOrigin: SameOrigin = SameOrigin(host: "127.0.0.1"),
                              say: (@Sendable (String) -> Void)? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let api = API(state: state)
        // First: Hummingbird runs a middleware only for the routes added after it.
        router.add(middleware: SameOriginMiddleware(policy: sameOrigin, say: say))

        // MARK: The page
        router.get("/") { _, _ in assets.response(for: "index.html") }
        router.get("/assets/{file}") { _, context in
            assets.response(for: context.parameters.get("file") ?? "")
        }
        router.get("/healthz") { _, _ in
            Studio.json(["status": "ok", "model": state.modelName])
        }

        // MARK: Reading
        router.post("/api/predict") { request, _ in await Studio.handle { try await api.predict(request) } }
        router.get("/api/model") { _, _ in await Studio.handle { try api.modelSummary() } }
        router.get("/api/model/file") { _, _ in Studio.modelFile(state: state) }
        router.get("/api/models") { _, _ in await Studio.handle { api.models() } }
        router.post("/api/models/select") { request, _ in await Studio.handle { try await api.select(request) } }
        router.post("/api/models/delete") { request, _ in await Studio.handle { try await api.delete(request) } }

        // MARK: Training
        router.get("/api/presets") { _, _ in await Studio.handle { api.presets() } }
        router.post("/api/train") { request, _ in await Studio.handle { try await api.train(request) } }
        router.get("/api/train") { _, _ in await Studio.handle { api.trainingStatus() } }
        router.post("/api/train/stop") { _, _ in await Studio.handle { try api.stopTraining() } }
        router.get("/api/train/events") { _, _ in api.events() }

        // MARK: Learning the person's handwriting
        router.get("/api/examples") { _, _ in await Studio.handle { api.exampleList() } }
        router.post("/api/examples") { request, _ in await Studio.handle { try await api.addExample(request) } }
        router.post("/api/finetune") { request, _ in await Studio.handle { try await api.finetune(request) } }

        // MARK: The test set
        router.get("/api/testset/random") { request, _ in await Studio.handle { try api.randomTestDigits(request) } }
        router.get("/api/testset/confusion") { _, _ in await Studio.handle { api.confusion() } }
        router.get("/api/testset/digits") { request, _ in await Studio.handle { try api.testDigits(request) } }
        return router
    }

    /// An application serving `state` on `host:port`; idle connections close after `idleTimeout`.
    /// It answers to IP addresses, `localhost`, `host` and `allowedHosts` (`SameOrigin`).
    /// Refusals of foreign host names are reported to `say`, once per name.
    public static func application(state: StudioState, host: String, port: Int, allowedHosts: [String] = [],
                                   say: (@Sendable (String) -> Void)? = nil, idleTimeout: Duration = .seconds(30),
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "digits-studio")
        logger.logLevel = .warning
        let nanoseconds = idleTimeout.components.seconds * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000
        return Application(
            router: router(state: state, sameOrigin: SameOrigin(host: host, allowedHosts: allowedHosts), say: say),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(nanoseconds))),
            configuration: .init(address: .hostname(host, port: port), serverName: "digits-studio"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    // MARK: - Responses

    /// A JSON response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jsonLine(value))))
    }

    /// A response of JSON already written as bytes (`ReadingJSON`).
    static func json(bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Runs a handler, turning every refusal into a JSON error with its status.
    static func handle(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch let error as APIError {
            return json(["error": error.message], status: error.status)
        } catch let refusal as RequestDecoding.Refusal {
            return json(["error": refusal.message], status: .init(code: refusal.status))
        } catch let error as any HTTPResponseError {
            let message = error.status == .contentTooLarge
                ? tooLarge
                : "the request could not be handled (\(error.status.code) \(error.status.reasonPhrase))"
            return json(["error": message], status: error.status)
        } catch {
            return json(["error": "internal error: \(error)"], status: .internalServerError)
        }
    }
}
