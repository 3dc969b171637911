import Foundation
import Hummingbird
import NIOCore

/// The page and its assets (`Resources/site`), read once into memory and served by name.
public struct Assets: Sendable {
    private let files: [String: (type: String, bytes: ByteBuffer)]

    /// The files of a directory (not its subdirectories).
    public init(directory: URL) {
        var files: [String: (String, ByteBuffer)] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where Names.isValid(name) {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            files[name] = (Self.type(of: name), ByteBuffer(bytes: data))
        }
        self.files = files
    }

    /// The page shipped in the library's resources.
    public static let bundled = Assets(directory: Bundle.module.url(forResource: "site", withExtension: nil)
                                       ?? URL(fileURLWithPath: "Sources/DigitsServer/Resources/site"))

    /// The names of the files served.
    public var names: [String] { files.keys.sorted() }

    static func type(of name: String) -> String {
        switch URL(fileURLWithPath: name).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }

    /// The file called `name`, or a 404 saying so.
    func response(for name: String) -> Response {
        guard let file = files[name] else { return Studio.json(["error": "no asset named '\(name)'"], status: .notFound) }
        var headers = HTTPFields()
        headers[.contentType] = file.type
        headers[.cacheControl] = "no-cache"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Content-Security-Policy")!] =
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.bytes))
    }
}
