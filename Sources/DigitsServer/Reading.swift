import DigitsApp
import DigitsCore
import DigitsVision
import Foundation

// MARK: - What /api/predict answers

/// A reading of one drawing or picture, as `/api/predict` sends it.
struct ReadingBody: Codable {
    var digit: Int
    var probabilities: [Double]
    var certainty: Double
    /// True below `Prediction.lowConfidence`.
    var uncertain: Bool
    var warning: String?
    /// The prepared 28×28 the network sees: 784 values, 0 background … 255 ink, row-major.
    var prepared: [Int]
    var model: String
    var layers: [LayerOutput]?
}

/// One layer's output for one input: `shape` is one sample's (such as `[16, 24, 24]` or `[128]`).
struct LayerOutput: Codable {
    var index: Int
    var name: String
    var shape: [Int]
    var values: [Double]
}

/// A value for JSON: rounded, and finite.
func jsonNumber(_ x: Float, places: Double = 1000) -> Double {
    guard x.isFinite else { return 0 }
    return (Double(x) * places).rounded() / places
}

// MARK: - Reading

extension TrainedModel {
    /// Every layer's output for one sample of bytes (0 … 255), in order. The last is the
    /// network's output.
    func layerOutputs(for sample: [UInt8]) -> [LayerOutput] {
        var h = Tensor(shape: [1] + model.inputShape)
        for i in 0..<min(sample.count, h.count) {
            h.data[i] = Float(sample[i]) * inputTransform.scale + inputTransform.offset
        }
        var outputs: [LayerOutput] = []
        for (i, layer) in model.layers.enumerated() {
            h = layer.forward(h, training: false)
            outputs.append(LayerOutput(index: i, name: layer.summary, shape: Array(h.shape.dropFirst()),
                                       values: h.array.map { jsonNumber($0) }))
        }
        return outputs
    }

    /// Reads a prepared 28×28 sample.
    func readingBody(prepared: [UInt8], name: String, layers: Bool) -> ReadingBody {
        let p = predict(prepared)
        return ReadingBody(
            digit: p.digit, probabilities: p.probabilities.map { jsonNumber($0, places: 10000) },
            certainty: jsonNumber(p.confidence, places: 10000), uncertain: p.isUncertain,
            warning: p.isUncertain ? "low certainty: this may not be a digit the network knows, or it may be drawn unusually" : nil,
            prepared: prepared.map(Int.init), model: name,
            layers: layers ? layerOutputs(for: prepared) : nil)
    }
}

// MARK: - What /api/predict accepts

/// The JSON form of a picture: grey values (0 black … 255 white, either polarity works), row-major.
struct GreyPixels: Decodable {
    var width: Int
    var height: Int
    var pixels: [Int]
    var layers: Bool?
}

enum PredictInput {
    /// The largest side a JSON picture may have.
    static let maximumSide = 2048

    /// Decodes a request body (PNG, JPEG, or JSON grey pixels) and prepares its digit as
    /// `digits predict` does. Returns the prepared 28×28 and whether layer outputs were asked for.
    static func prepare(_ bytes: [UInt8], contentType: String?) throws(APIError) -> (prepared: [UInt8], layers: Bool) {
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty: send a PNG or JPEG image, or JSON {\"width\", \"height\", \"pixels\"}") }
        let type = contentType?.lowercased() ?? ""
        let isJSON = type.hasPrefix("application/json") || (!type.hasPrefix("image/") && (bytes.first == UInt8(ascii: "{")))
        if isJSON {
            let grey: GreyPixels
            do { grey = try JSONDecoder().decode(GreyPixels.self, from: Data(bytes)) } catch {
                throw .badRequest("malformed JSON: \(describe(error)); expected {\"width\": W, \"height\": H, \"pixels\": [W×H grey values 0-255]}")
            }
            guard (1...maximumSide).contains(grey.width), (1...maximumSide).contains(grey.height) else {
                throw .badRequest("width and height must be between 1 and \(maximumSide), got \(grey.width)×\(grey.height)")
            }
            guard grey.pixels.count == grey.width * grey.height else {
                throw .badRequest("pixels has \(grey.pixels.count) values, but width × height is \(grey.width * grey.height)")
            }
            if let bad = grey.pixels.firstIndex(where: { !(0...255).contains($0) }) {
                throw .badRequest("pixel values must be 0-255; pixels[\(bad)] is \(grey.pixels[bad])")
            }
            guard let image = Image(width: grey.width, height: grey.height, channels: 1, pixels: grey.pixels.map { UInt8($0) }) else {
                throw .badRequest("the pixels do not make an image")
            }
            return (try prepare(image, name: "the JSON picture"), grey.layers ?? false)
        }
        let image: Image
        do { image = try ImageIO.decode(bytes, name: "the uploaded image") } catch {
            throw .badRequest(error.description)
        }
        return (try prepare(image, name: "the uploaded image"), false)
    }

    private static func prepare(_ image: Image, name: String) throws(APIError) -> [UInt8] {
        do { return try DigitPreparation.prepare(image, source: name) } catch {
            throw .badRequest(error.description)
        }
    }

    /// What a decoding error says, in one line.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return "wrong type\(path.isEmpty ? "" : " at \"\(path)\""): \(c.debugDescription)"
        default: return "not valid JSON"
        }
    }
}
