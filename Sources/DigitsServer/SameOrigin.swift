import Foundation
import Hummingbird

// MARK: - SameOrigin

/// Which requests the studio answers: only those its own page, or a program that is not a
/// browser (curl, a script), could have sent.
///
/// Two attacks a web page on another site could otherwise make through the person's browser,
/// which can reach `127.0.0.1`:
/// - **Cross-site requests.** A page at `https://evil.example` may `fetch("http://127.0.0.1:8080/api/models/delete",
///   {method: "POST", mode: "no-cors", body: ...})`: the browser sends it (it only hides the
///   answer). So a request that changes something (any method but GET, HEAD and OPTIONS) is
///   refused when the browser says it comes from another site: `Sec-Fetch-Site` other than
///   `same-origin` or `none`, or, from browsers that do not send that header, an `Origin` that
///   is not this server's own address (`Host`).
/// - **DNS rebinding.** A name the attacker controls can be made to resolve to `127.0.0.1`;
///   the page is then "same-origin" with the studio, and could read anything. So every request
///   whose `Host` is a *name* must name this server: `localhost` (or `*.localhost`), the address
///   it was started on (`--host`), or one allowed with `--allow-host`. Addresses written as IP
///   numbers are always accepted (a rebinding needs a name).
///
/// Requests without these headers (not from a browser) pass: the studio's API is meant to be
/// scripted. Refusals are `403` with `{"error": "..."}` saying what was refused and why.
public struct SameOrigin: Sendable {
    /// Host names (lower case, without port) this server answers to, besides IP addresses and `localhost`.
    public var names: Set<String>

    /// A policy for a server listening on `host`, also answering to `allowedHosts`.
    public init(host: String, allowedHosts: [String] = []) {
        var names = Set(allowedHosts.compactMap(SameOrigin.hostName))
        if !SameOrigin.isAddress(host), let name = SameOrigin.hostName(host) { names.insert(name) }
        self.names = names
    }

    /// Why `name` cannot be given to `--allow-host` (or `--host`), or `nil` when it can: a host
    /// name as browsers send it (ASCII letters, digits, `-`, `.`; punycode for other letters).
    public static func problem(withName name: String) -> String? {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        guard !name.isEmpty, allowed, name.contains(where: { $0 != "." }) else {
            return "\"\(name)\" is not a host name: give one without scheme, port, path or wildcard, in ASCII (punycode, xn--…, for other letters)"
        }
        return nil
    }

    /// Why a request must be refused, or `nil` when it may go on.
    /// - Parameters:
    ///   - method: the request's method.
    ///   - authority: its `Host` (`name:port`), if it has one.
    ///   - origin: its `Origin` header, if any.
    ///   - fetchSite: its `Sec-Fetch-Site` header, if any.
    public func refusal(method: HTTPRequest.Method, authority: String?, origin: String?, fetchSite: String?) -> String? {
        if let name = foreignName(authority) {
            return "this server does not answer to the name \(name) (a page on another site may be trying to reach it through your browser): "
                + "open it by its IP address, or as localhost on this machine, or start it with --allow-host \(name)"
        }
        if [.get, .head, .options].contains(method) { return nil }
        let advice = "only the studio's own page (or a program such as curl) may change things"
        if let site = fetchSite?.lowercased() {
            if site == "same-origin" || site == "none" { return nil }
            return "\(method.rawValue) requests from another site are refused (Sec-Fetch-Site: \(site)): \(advice)"
        }
        if let origin, !isOwn(origin: origin, authority: authority) {
            return "\(method.rawValue) requests from another origin are refused (Origin: \(origin)): \(advice)"
        }
        return nil
    }

    /// Whether `origin` is this server's own: the address the request was sent to (`Host`), or
    /// one of the names it was told to answer to (behind a proxy that rewrites `Host`).
    func isOwn(origin: String, authority: String?) -> Bool {
        let origin = origin.lowercased()
        if let authority, origin == "http://" + authority.lowercased() { return true }
        for scheme in ["http://", "https://"] where origin.hasPrefix(scheme) {
            if let name = SameOrigin.hostName(String(origin.dropFirst(scheme.count))), names.contains(name) { return true }
        }
        return false
    }

    /// The host name of `authority` when it is not one this server answers to.
    func foreignName(_ authority: String?) -> String? {
        guard let authority, let name = SameOrigin.hostName(authority), !accepts(name) else { return nil }
        return name
    }

    /// Whether `name` (lower case, no port) is one this server answers to.
    func accepts(_ name: String) -> Bool {
        SameOrigin.isAddress(name) || name == "localhost" || name.hasSuffix(".localhost") || names.contains(name)
    }

    // MARK: - Names and addresses

    /// The host name of an authority (`name:port`, `[v6]:port`), lower case, without the port or
    /// a final dot; `nil` when it is empty.
    static func hostName(_ authority: String) -> String? {
        var text = Substring(authority.lowercased())
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return String(text) }
            return String(text[...close])
        }
        if let colon = text.lastIndex(of: ":") { text = text[..<colon] }
        if text.hasSuffix(".") { text = text.dropLast() }
        return text.isEmpty ? nil : String(text)
    }

    /// Whether `host` is an IP address (dotted IPv4, or IPv6 with or without brackets), or a
    /// wildcard one (`0.0.0.0`, `::`).
    static func isAddress(_ host: String) -> Bool {
        if host.contains(":") || host.hasPrefix("[") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
        }
    }
}

// MARK: - The middleware

/// Refuses, with 403, what `SameOrigin` refuses, before any route runs, and tells `say` the
/// first time a request comes for a name the server does not answer to (the person at the
/// terminal may want `--allow-host`).
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: SameOrigin
    let say: (@Sendable (String) -> Void)?
    let reported = ReportedNames()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let fields = request.headers
        if let reason = policy.refusal(method: request.method, authority: request.head.authority,
                                       origin: fields[.origin], fetchSite: fields.first { $0.name.canonicalName == "sec-fetch-site" }?.value) {
            if let say, let name = policy.foreignName(request.head.authority), reported.isFirst(name) {
                say("refused a request for http://\(name)/: this server answers to IP addresses, localhost and --host; add --allow-host \(name) if that name is yours")
            }
            return Studio.json(["error": reason] as [String: String], status: .forbidden)
        }
        return try await next(request, context)
    }
}

/// The refused names already reported (at most 32, so that a flood of names cannot grow it).
final class ReportedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []

    func isFirst(_ name: String) -> Bool {
        lock.withLock {
            guard names.count < 32, !names.contains(name) else { return false }
            names.insert(name)
            return true
        }
    }
}
