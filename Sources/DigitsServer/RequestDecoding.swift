import DigitsVision
import Foundation

// MARK: - RequestDecoding

/// The studio's request bodies, decoded and checked without a server: a picture to read
/// (`POST /api/predict`: PNG, JPEG or JSON grey pixels), an example to keep (`POST
/// /api/examples`), a model name (`POST /api/models/select`), any JSON body. Everything a client
/// sends passes through here before the server acts on it; a body that cannot be used is a
/// `Refusal` with a 4xx status and one line saying what is wrong.
///
/// This file imports only Foundation and DigitsVision (and uses `Names`), so that the `request`
/// fuzz target compiles it as it is, without the HTTP server (`Fuzz/Sources/FuzzRequest` links
/// to it and to `Names.swift`).
public enum RequestDecoding {
    /// A request body refused: the HTTP status (400-499) and what is wrong.
    public struct Refusal: Error, Equatable, Sendable {
        public var status: Int
        public var message: String

        public init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }

        static func badRequest(_ message: String) -> Refusal { Refusal(400, message) }
    }

    /// The largest side a JSON picture may have.
    public static let maximumSide = 2048

    // MARK: - Reading a picture

    /// The JSON form of a picture: grey values (0 black … 255 white, either polarity works), row-major.
    struct GreyPixels: Decodable {
        var width: Int
        var height: Int
        var pixels: [Int]
        var layers: Bool?
    }

    /// Decodes a `/api/predict` body (PNG, JPEG, or JSON grey pixels) and prepares its digit as
    /// `digits predict` does. Returns the prepared 28×28 (784 values, 0 background … 255 ink)
    /// and whether layer outputs were asked for.
    public static func predict(_ bytes: [UInt8], contentType: String?) throws(Refusal) -> (prepared: [UInt8], layers: Bool) {
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

    private static func prepare(_ image: Image, name: String) throws(Refusal) -> [UInt8] {
        do { return try DigitPreparation.prepare(image, source: name) } catch {
            throw .badRequest(error.description)
        }
    }

    // MARK: - Keeping an example

    /// `{"label": 7, "prepared": [784 values 0-255]}`: the prepared digit a reading returned,
    /// with what it really is.
    struct ExampleBody: Decodable { var label: Int; var prepared: [Int] }

    /// Decodes a `/api/examples` body: a digit 0-9 and 784 values 0-255.
    public static func example(_ bytes: [UInt8]) throws(Refusal) -> (label: Int, pixels: [UInt8]) {
        let body = try json(ExampleBody.self, bytes)
        guard (0...9).contains(body.label) else { throw .badRequest("label must be a digit 0-9, got \(body.label)") }
        guard body.prepared.count == 784 else {
            throw .badRequest("prepared must hold 784 values (28×28), got \(body.prepared.count)")
        }
        if let bad = body.prepared.firstIndex(where: { !(0...255).contains($0) }) {
            throw .badRequest("prepared values must be 0-255; prepared[\(bad)] is \(body.prepared[bad])")
        }
        return (body.label, body.prepared.map { UInt8($0) })
    }

    // MARK: - Names

    struct NameBody: Decodable { var name: String }

    /// Decodes `{"name": "..."}` and checks the name (`Names.isValid`).
    public static func modelName(_ bytes: [UInt8]) throws(Refusal) -> String {
        try name(json(NameBody.self, bytes).name, what: "the model name")
    }

    /// `name`, or a 400 refusal saying what a name may hold.
    public static func name(_ name: String, what: String) throws(Refusal) -> String {
        guard Names.isValid(name) else { throw .badRequest("\(what) must be \(Names.rule)") }
        return name
    }

    // MARK: - JSON

    /// A JSON body decoded as `T`; an empty body reads as `{}` when `allowEmpty`.
    public static func json<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], allowEmpty: Bool = false) throws(Refusal) -> T {
        let bytes = bytes.isEmpty && allowEmpty ? Array("{}".utf8) : bytes
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw .badRequest("malformed JSON: \(describe(error))")
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
