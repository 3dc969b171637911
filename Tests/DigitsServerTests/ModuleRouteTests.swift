import DigitsApp
import DigitsCore
@testable import DigitsServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What the page needs to read in the browser: the WebAssembly module and its glue under
/// /assets/, a Content-Security-Policy that lets it compile, and the model in use as a file.
@Suite("Digits Studio: the module and the model for the page")
struct ModuleRouteTests {
    @Test("GET /assets/ serves digits.wasm (application/wasm), digits.js and digits-worker.js; the CSP allows WebAssembly")
    func moduleAssets() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            for (asset, type) in [("digits.wasm", "application/wasm"), ("digits.js", "text/javascript"), ("digits-worker.js", "text/javascript"),
                                  ("local.js", "text/javascript")] {
                try await client.execute(uri: "/assets/\(asset)", method: .get) { r in
                    #expect(r.status == .ok, "\(asset)")
                    #expect(r.headers[.contentType]?.hasPrefix(type) == true, "\(asset)")
                    #expect(r.headers[.init("Content-Security-Policy")!]?.contains("'wasm-unsafe-eval'") == true)
                }
            }
            try await client.execute(uri: "/assets/digits.wasm", method: .get) { r in
                let bytes = Array(r.body.readableBytesView)
                #expect(bytes.prefix(4) == [0x00, 0x61, 0x73, 0x6D])   // "\0asm"
                let committed = try Data(contentsOf: Assets.wasmDirectory.appendingPathComponent("digits.wasm"))
                #expect(bytes == Array(committed))
            }
        }
    }

    @Test("GET /api/model/file is the model in use as a safetensors file, named in X-Digits-Model")
    func modelFile() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/model/file", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.init("X-Digits-Model")!] == state.modelName)
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("served-\(UUID().uuidString).safetensors")
                defer { try? FileManager.default.removeItem(at: file) }
                try Data(r.body.readableBytesView).write(to: file)
                let loaded = try TrainedModel.load(from: file.path)
                let expected = state.withModel { _, trained in trained.model.parameterCount }
                #expect(loaded.model.parameterCount == expected)
                #expect(loaded.metadata["loss"] != nil)
                // The same readings as the model in use.
                let sample = [UInt8](repeating: 0, count: 300) + [UInt8](repeating: 255, count: 184) + [UInt8](repeating: 0, count: 300)
                let served = loaded.probabilities(for: sample)
                let used = state.withModel { _, trained in trained.probabilities(for: sample) }
                #expect(served == used)
            }
        }
    }
}
