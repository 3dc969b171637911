import DigitsApp
import DigitsCore
import DigitsData
import Foundation
import Hummingbird
import NIOCore

/// The JSON API's handlers. Each returns a response or throws an `APIError`.
struct API: Sendable {
    let state: StudioState

    // MARK: - Request bodies

    /// The request body, at most `Studio.bodyLimit` bytes (413 above). A body over the limit is
    /// read to its end (and dropped) before the refusal is sent: answered halfway, the connection
    /// was later closed by Hummingbird's idle timer with the next request in flight (one lost
    /// request per connection in `scripts/load-test.sh`'s mixed run, about 30 s in).
    func body(_ request: Request) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var total = 0
        for try await buffer in request.body {
            total += buffer.readableBytes
            if total <= Studio.bodyLimit { bytes.append(contentsOf: buffer.readableBytesView) }
        }
        guard total <= Studio.bodyLimit else { throw APIError(.contentTooLarge, Studio.tooLarge) }
        return bytes
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, allowEmpty: Bool = false) async throws -> T {
        try Self.decode(T.self, try await body(request), allowEmpty: allowEmpty)
    }

    // Not inlined into the async handlers: Swift 6.3.1's release build crashes (LLVM's coroutine
    // splitting, in `train`) when this typed-throws call is inlined there.
    @inline(never)
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], allowEmpty: Bool) throws -> T {
        try RequestDecoding.json(T.self, bytes, allowEmpty: allowEmpty)
    }

    // MARK: - Reading

    func predict(_ request: Request) async throws -> Response {
        let bytes = try await body(request)
        let contentType = request.headers[.contentType]
        let input = try await state.readingGate.run { try RequestDecoding.predict(bytes, contentType: contentType) }
        let layersWanted = input.layers || ["1", "true", "yes"].contains(request.uri.queryParameters.get("layers") ?? "")
        let reading = state.withReadingModel { name, model in
            model.readingBody(prepared: input.prepared, name: name, layers: layersWanted)
        }
        return Studio.json(bytes: ReadingJSON.bytes(reading))
    }

    struct LayerInfo: Codable { var index: Int; var name: String; var shape: [Int]; var parameters: Int }
    struct Weights: Codable { var layer: String; var kind: String; var width: Int; var height: Int; var images: [[Double]] }
    /// `/api/model`. Its `metadata` is the model's as `POST /api/predict` reads with it: with
    /// `tta` when the server reads in views (`serve --tta`, or the file's option), which tells the
    /// page to read through the server rather than in its module (which reads the image alone).
    struct Summary: Codable {
        var name: String; var preset: String?; var parameters: Int; var testAccuracy: Double?
        var inputShape: [Int]; var layers: [LayerInfo]; var weights: Weights?; var metadata: [String: String]
    }

    func modelSummary() throws -> Response {
        let summary = state.withReadingModel { name, trained in
            let model = trained.model
            var shape = model.inputShape
            var layers: [LayerInfo] = []
            for (i, layer) in model.layers.enumerated() {
                shape = (try? layer.outputShape(for: shape)) ?? []
                layers.append(LayerInfo(index: i, name: layer.summary, shape: shape,
                                        parameters: layer.parameters.filter(\.trainable).reduce(0) { $0 + $1.value.count }))
            }
            return Summary(name: name, preset: trained.metadata["preset"], parameters: model.parameterCount,
                           testAccuracy: trained.metadata["test_accuracy"].flatMap(Double.init), inputShape: model.inputShape,
                           layers: layers, weights: firstWeights(model), metadata: trained.metadata)
        }
        return Studio.json(summary)
    }

    /// The first layer's weights as pictures: a convolution's kernels, or a dense layer's
    /// incoming weights of each unit as 28×28 (at most 64 units).
    private func firstWeights(_ model: Sequential) -> Weights? {
        guard let layer = model.layers.first(where: { !$0.parameters.isEmpty }), let w = layer.parameters.first?.value else { return nil }
        let s = w.shape
        if s.count == 4 {   // (outC, inC, k, k): the first input channel of each kernel
            let (outC, inC, k) = (s[0], s[1], s[2])
            let images = (0..<outC).map { o in (0..<(k * k)).map { jsonNumber(w.data[o * inC * k * k + $0]) } }
            return Weights(layer: layer.summary, kind: "conv", width: k, height: s[3], images: images)
        }
        if s.count == 2, s[0] == 784 {   // (784, units)
            let units = min(s[1], 64)
            let images = (0..<units).map { u in (0..<784).map { jsonNumber(w.data[$0 * s[1] + u]) } }
            return Weights(layer: layer.summary, kind: "dense", width: 28, height: 28, images: images)
        }
        return nil
    }

    struct ModelList: Codable { var current: String; var models: [ModelInfo] }

    func models() -> Response {
        Studio.json(ModelList(current: state.modelName, models: state.modelList()))
    }

    func select(_ request: Request) async throws -> Response {
        let name = try RequestDecoding.modelName(try await body(request))
        try state.select(name)
        return Studio.json(ModelList(current: state.modelName, models: state.modelList()))
    }

    func delete(_ request: Request) async throws -> Response {
        let name = try RequestDecoding.modelName(try await body(request))
        try state.delete(name)
        return Studio.json(ModelList(current: state.modelName, models: state.modelList()))
    }
}
