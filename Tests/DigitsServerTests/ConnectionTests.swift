import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DigitsServer

#if canImport(Glibc)
import Glibc
#endif

@Suite("Digits Studio connections")
struct ConnectionTests {
    /// Connects to 127.0.0.1:`port`, sends `bytes`, and returns what `recv` gives within `wait`
    /// seconds (its count: 0 when the server closed the connection, -1 when it kept it open; -2
    /// and -3 when no socket or no connection) and the text received.
    static func exchange(port: Int, bytes: String, wait: Int) -> (count: Int, text: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return (-2, "") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return (-3, "") }
        var timeout = timeval(tv_sec: wait, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, 0)
        return (count, count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : "")
    }

    /// `exchange`'s count: 0 when the server closed the connection, -1 when it kept it open.
    static func sendAndWaitForClose(port: Int, bytes: String, wait: Int) -> Int {
        exchange(port: port, bytes: bytes, wait: wait).count
    }

    @Test("An idle connection, or one that stops halfway through its request, is closed after the idle timeout")
    func idleConnectionsClose() async throws {
        let state = try Support.state()
        let app = Studio.application(state: state, host: "127.0.0.1", port: 0, idleTimeout: .milliseconds(500))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // 0 is the server closing the connection; the 5 s wait running out would give -1. (No
            // bound on the elapsed time: with the other suites running in parallel on 2 CPUs, the
            // 0.5 s timeout has fired more than 4 s late.)
            #expect(await Support.onOwnThread { Self.sendAndWaitForClose(port: port, bytes: "", wait: 5) } == 0)
            #expect(await Support.onOwnThread {
                Self.sendAndWaitForClose(port: port, bytes: "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", wait: 5)
            } == 0)
            // The server still answers a whole request on a new connection (the test client's own
            // connection has been idle too long by now).
            // (Generous wait: handlers run on the shared task pool, which the other suites, run in
            // parallel, can keep busy for many seconds.)
            #expect(await Support.onOwnThread {
                Self.sendAndWaitForClose(port: port, bytes: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", wait: 120)
            } > 0)
        }
    }
}
