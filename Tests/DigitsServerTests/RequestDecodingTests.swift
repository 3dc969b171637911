@testable import DigitsServer
import DigitsVision
import Foundation
import Testing

/// The request bodies decoded without a server (what the `request` fuzz target drives).
@Suite("request decoding")
struct RequestDecodingTests {
    /// A 28×28 JSON picture of a vertical bar.
    static let bar: [UInt8] = {
        let pixels = (0..<784).map { i in (i % 28 >= 12 && i % 28 < 16 && i / 28 >= 4 && i / 28 < 24) ? 0 : 255 }
        return Array(#"{"width":28,"height":28,"pixels":\#(pixels),"layers":true}"#.utf8)
    }()

    /// The status a body is refused with, or nil when it is used.
    static func refusal(_ body: () throws(RequestDecoding.Refusal) -> Void) -> Int? {
        do { try body(); return nil } catch { return error.status }
    }

    @Test("a JSON picture is prepared to 784 values, with or without a Content-Type")
    func predictJSON() throws {
        for type in ["application/json", nil] as [String?] {
            let (prepared, layers) = try RequestDecoding.predict(Self.bar, contentType: type)
            #expect(prepared.count == 784 && layers)
            #expect(prepared.max() ?? 0 > 200)
        }
    }

    @Test("bad /api/predict bodies are refused with 400", arguments: [
        ("", "image/png"), ("not a picture", "image/png"), (#"{"width": 3, "height":"#, "application/json"),
        (#"{"width":2,"height":2,"pixels":[1]}"#, "application/json"), (#"{"width":0,"height":2,"pixels":[]}"#, "application/json"),
        (#"{"width":9223372036854775807,"height":9223372036854775807,"pixels":[1]}"#, "application/json"),
        (#"{"width":1,"height":2,"pixels":[1,256]}"#, "application/json"), (#"{"width":2,"height":1,"pixels":[255,255]}"#, "application/json"),
        ("\u{89}PNG\r\n\u{1A}\n", nil),
    ] as [(String, String?)])
    func predictRefused(body: String, type: String?) {
        #expect(Self.refusal { () throws(RequestDecoding.Refusal) in _ = try RequestDecoding.predict(Array(body.utf8), contentType: type) } == 400)
    }

    @Test("an example needs a digit 0-9 and 784 values 0-255")
    func example() throws {
        let pixels = [Int](repeating: 3, count: 784)
        let good = try RequestDecoding.example(Array(#"{"label":7,"prepared":\#(pixels)}"#.utf8))
        #expect(good.label == 7 && good.pixels == [UInt8](repeating: 3, count: 784))
        for body in [#"{"label":10,"prepared":\#(pixels)}"#, #"{"label":-1,"prepared":\#(pixels)}"#, #"{"label":1,"prepared":[1,2]}"#,
                     #"{"label":1,"prepared":\#(pixels.dropLast() + [256])}"#, #"{"label":"7"}"#, "", "[]"] {
            #expect(Self.refusal { () throws(RequestDecoding.Refusal) in _ = try RequestDecoding.example(Array(body.utf8)) } == 400, "\(body)")
        }
    }

    @Test("model names: letters, digits, '-', '_', '.'; no path, no leading dot, at most 64")
    func names() throws {
        #expect(try RequestDecoding.modelName(Array(#"{"name":"my-net.v2"}"#.utf8)) == "my-net.v2")
        for name in ["../etc/passwd", "/tmp/x", "a/b", ".hidden", "..", "", String(repeating: "a", count: 65), "naïve", "a b", "a\u{0}b"] {
            let body = Array(try JSONSerialization.data(withJSONObject: ["name": name]))
            #expect(Self.refusal { () throws(RequestDecoding.Refusal) in _ = try RequestDecoding.modelName(body) } == 400, "\(name)")
        }
        #expect(Self.refusal { () throws(RequestDecoding.Refusal) in _ = try RequestDecoding.modelName(Array(#"{"name":7}"#.utf8)) } == 400)
    }
}
