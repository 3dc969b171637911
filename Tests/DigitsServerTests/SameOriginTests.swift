import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigitsServer

@Suite("Digits Studio refuses requests from other sites")
struct SameOriginTests {
    // MARK: - The policy

    static let local = SameOrigin(host: "127.0.0.1")

    @Test("Requests from the studio's own page, or not from a browser, pass", arguments: [
        (HTTPRequest.Method.post, "127.0.0.1:8080", "http://127.0.0.1:8080", "same-origin"),
        (.post, "127.0.0.1:8080", nil, "same-origin"),
        (.post, "127.0.0.1:8080", "http://127.0.0.1:8080", nil),   // a browser without Sec-Fetch-Site
        (.post, "localhost:8080", "http://LOCALHOST:8080", nil),
        (.post, "127.0.0.1:8080", nil, "none"),                    // typed into the address bar
        (.post, "127.0.0.1:8080", nil, nil),                       // curl, a script
        (.post, nil, nil, nil),
        (.get, "127.0.0.1:8080", "https://evil.example", "cross-site"),   // reading is not changing
        (.get, "[::1]:8080", nil, nil),
        (.get, "studio.localhost:8080", nil, nil),
        (.get, "192.168.1.20:8080", nil, nil),                     // an IP address, never a rebinding
    ] as [(HTTPRequest.Method, String?, String?, String?)])
    func passes(method: HTTPRequest.Method, authority: String?, origin: String?, fetchSite: String?) {
        #expect(Self.local.refusal(method: method, authority: authority, origin: origin, fetchSite: fetchSite) == nil)
    }

    @Test("A change requested by another site's page is refused", arguments: [
        ("127.0.0.1:8080", "https://evil.example", "cross-site"),
        ("127.0.0.1:8080", nil, "same-site"),                       // another port of localhost
        ("127.0.0.1:8080", "https://evil.example", nil),            // a browser without Sec-Fetch-Site
        ("127.0.0.1:8080", "http://127.0.0.1:3000", nil),
        ("127.0.0.1:8080", "null", nil),                            // a sandboxed frame or a file
        (nil, "https://evil.example", nil),
    ] as [(String?, String?, String?)])
    func crossSiteRefused(authority: String?, origin: String?, fetchSite: String?) {
        for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
            let reason = Self.local.refusal(method: method, authority: authority, origin: origin, fetchSite: fetchSite)
            #expect(reason?.contains("only the studio's own page") == true, "\(method) \(origin ?? "-") \(fetchSite ?? "-")")
        }
    }

    @Test("Any request to a name that is not this server's is refused (DNS rebinding)", arguments: [
        "evil.example:8080", "EVIL.example", "127.0.0.1.nip.io:8080", "localhost.evil.example",
    ])
    func foreignNameRefused(authority: String) {
        for method in [HTTPRequest.Method.get, .post] {
            let reason = Self.local.refusal(method: method, authority: authority, origin: nil, fetchSite: "same-origin")
            #expect(reason?.contains("does not answer to the name") == true, "\(method) \(authority)")
        }
    }

    @Test("The name given with --host and those given with --allow-host are answered to")
    func allowedNames() {
        let policy = SameOrigin(host: "Studio.Lan.", allowedHosts: ["box.local."])
        for authority in ["studio.lan:8080", "STUDIO.LAN.", "box.local:80", "box.local", "localhost", "10.0.0.2"] {
            #expect(policy.refusal(method: .post, authority: authority, origin: nil, fetchSite: "same-origin") == nil, "\(authority)")
        }
        #expect(policy.refusal(method: .get, authority: "other.lan:8080", origin: nil, fetchSite: nil) != nil)
        #expect(SameOrigin(host: "0.0.0.0").names.isEmpty)
        #expect(SameOrigin(host: "::").names.isEmpty)
    }

    @Test("Behind a proxy that rewrites Host, an Origin naming an allowed name is the studio's own")
    func proxyOrigin() {
        let policy = SameOrigin(host: "127.0.0.1", allowedHosts: ["studio.lan"])
        for origin in ["http://studio.lan", "https://studio.lan", "https://STUDIO.lan:8443"] {
            #expect(policy.refusal(method: .post, authority: "127.0.0.1:8080", origin: origin, fetchSite: nil) == nil, "\(origin)")
        }
        for origin in ["http://evil.example", "https://studio.lan.evil.example", "ftp://studio.lan"] {
            #expect(policy.refusal(method: .post, authority: "127.0.0.1:8080", origin: origin, fetchSite: nil) != nil, "\(origin)")
        }
    }

    @Test("--allow-host takes only host names as browsers send them", arguments: [
        ("box.local", true), ("box.local.", true), ("xn--bcher-kva.lan", true), ("studio-2", true),
        ("", false), ("*.lan", false), ("bücher.lan", false), ("a:1", false), ("http://a", false), ("a/b", false),
        ("user@box", false), ("box local", false), (".", false),
    ])
    func allowHostNames(name: String, valid: Bool) {
        #expect((SameOrigin.problem(withName: name) == nil) == valid)
    }

    @Test("Host names are taken from authorities", arguments: [
        ("127.0.0.1:8080", "127.0.0.1"), ("[::1]:8080", "[::1]"), ("Example.COM.", "example.com"), ("localhost", "localhost"),
    ])
    func hostNames(authority: String, name: String) {
        #expect(SameOrigin.hostName(authority) == name)
    }

    // MARK: - The server

    @Test("The server refuses a cross-site deletion with 403 and keeps the file; its own page's deletion works")
    func crossSiteDeletion() async throws {
        let state = try Support.state()
        let saved = try Support.smallModel(in: state.modelsDirectory)
        let path = state.modelsDirectory.appendingPathComponent("other.safetensors").path
        try FileManager.default.moveItem(atPath: saved, toPath: path)
        let body = Support.body("{\"name\":\"other\"}")
        @Sendable func headers(_ extra: [(String, String)]) -> HTTPFields {
            var fields = Support.jsonHeaders
            for (name, value) in extra {
                if name == "Origin" { fields[.origin] = value } else { fields[.init("Sec-Fetch-Site")!] = value }
            }
            return fields
        }
        try await Support.app(state).test(.router) { client in
            for extra in [[("Origin", "https://evil.example")], [("Sec-Fetch-Site", "cross-site")],
                          [("Origin", "http://localhost:3000"), ("Sec-Fetch-Site", "same-site")]] {
                try await client.execute(uri: "/api/models/delete", method: .post, headers: headers(extra), body: body) { r in
                    #expect(r.status == .forbidden, "\(extra)")
                    #expect((Support.json(r.body)["error"] as? String)?.contains("only the studio's own page") == true)
                }
                #expect(FileManager.default.fileExists(atPath: path))
            }
            // Another site may still not start a training run or stop one.
            try await client.execute(uri: "/api/train/stop", method: .post, headers: headers([("Sec-Fetch-Site", "cross-site")])) { r in
                #expect(r.status == .forbidden)
            }
            // Reading is not changing: a cross-site GET is answered (the browser hides the answer from the other page).
            try await client.execute(uri: "/api/models", method: .get, headers: headers([("Sec-Fetch-Site", "cross-site")])) { r in
                #expect(r.status == .ok)
            }
            // The studio's own page (the test client's authority is "localhost").
            try await client.execute(uri: "/api/models/delete", method: .post,
                                     headers: headers([("Origin", "http://localhost"), ("Sec-Fetch-Site", "same-origin")]), body: body) { r in
                #expect(r.status == .ok)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("Every POST route refuses a cross-site request with 403 (the middleware runs before each)")
    func everyPostRoute() async throws {
        let state = try Support.state()
        var headers = Support.jsonHeaders
        headers[.init("Sec-Fetch-Site")!] = "cross-site"
        let fields = headers
        try await Support.app(state).test(.router) { client in
            for route in ["/api/predict", "/api/models/select", "/api/models/delete", "/api/train", "/api/train/stop",
                          "/api/examples", "/api/finetune", "/api/no-such-route"] {
                try await client.execute(uri: route, method: .post, headers: fields, body: Support.body("{}")) { r in
                    #expect(r.status == .forbidden, "\(route)")
                }
            }
        }
        #expect(state.runningJob == nil)
    }

    /// Sends `request` to 127.0.0.1:`port` and returns the response's status line.
    static func statusLine(port: Int, request: String) -> String {
        let (count, text) = ConnectionTests.exchange(port: port, bytes: request, wait: 60)
        guard count > 0 else { return "no answer (\(count))" }
        return text.components(separatedBy: "\r\n").first ?? ""
    }

    @Test("A live server refuses a request whose Host is another name (and says so once), and answers its own and --allow-host's")
    func liveHostCheck() async throws {
        let state = try Support.state()
        let said = Said()
        let app = Studio.application(state: state, host: "127.0.0.1", port: 0, allowedHosts: ["box.local"], say: { said.add($0) })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for (host, status) in [("evil.example", "HTTP/1.1 403 Forbidden"), ("evil.example", "HTTP/1.1 403 Forbidden"),
                                   ("127.0.0.1", "HTTP/1.1 200 OK"), ("localhost", "HTTP/1.1 200 OK"), ("box.local", "HTTP/1.1 200 OK")] {
                let request = "GET /api/models HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
                #expect(await Support.onOwnThread { Self.statusLine(port: port, request: request) } == status, "\(host)")
            }
        }
        #expect(said.lines.count == 1)
        #expect(said.lines.first?.contains("--allow-host evil.example") == true)
    }

    /// What the server said.
    final class Said: @unchecked Sendable {
        private let lock = NSLock()
        private var said: [String] = []
        func add(_ line: String) { lock.withLock { said.append(line) } }
        var lines: [String] { lock.withLock { said } }
    }
}
