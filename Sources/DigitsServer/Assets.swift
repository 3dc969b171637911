import DigitsModelFile
import Foundation
import Hummingbird
import NIOCore

/// The page and its assets (`Resources/site`), read once into memory and served by name, with
/// the WebAssembly module and its glue (`Wasm/digits.wasm`, `digits.js`, `digits-worker.js`),
/// with which the page reads each drawing itself.
public struct Assets: Sendable {
    private let files: [String: (type: String, bytes: ByteBuffer)]

    /// The files of `directory` (not its subdirectories), and those of `extra` named in `only`.
    public init(directory: URL, adding extra: URL? = nil, only: [String] = []) {
        var files: [String: (String, ByteBuffer)] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let sources = names.map { (directory, $0) } + (extra.map { dir in only.map { (dir, $0) } } ?? [])
        for (dir, name) in sources where Names.isValid(name) {
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) else { continue }
            files[name] = (Self.type(of: name), ByteBuffer(bytes: data))
        }
        self.files = files
    }

    /// The module's files the page loads from `/assets/`.
    public static let moduleFiles = ["digits.wasm", "digits.js", "digits-worker.js"]

    /// The repository's `Wasm` folder, found from this source file's place (as `digits web` finds
    /// it): a fresh clone has the module there. Without it the page reads through `/api/predict`.
    public static var wasmDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Wasm")
    }

    /// The page shipped in the library's resources, and the module.
    public static let bundled = Assets(directory: Bundle.module.url(forResource: "site", withExtension: nil)
                                       ?? URL(fileURLWithPath: "Sources/DigitsServer/Resources/site"),
                                       adding: wasmDirectory, only: moduleFiles)

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
        case "wasm": "application/wasm"
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
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.bytes))
    }
}

// MARK: - The model, for the page's module

extension Studio {
    /// `GET /api/model/file`: the model in use as a safetensors file, which the page loads into
    /// its WebAssembly module to read each stroke without a round trip. Its name is in the
    /// `X-Digits-Model` header.
    static func modelFile(state: StudioState) -> Response {
        let (name, data) = state.withModel { name, trained in
            var metadata = trained.metadata
            metadata["loss"] = trained.loss.rawValue
            return (name, Safetensors.encode(trained.model, inputTransform: trained.inputTransform, metadata: metadata))
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = "no-store"
        headers[.init("X-Digits-Model")!] = name
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
