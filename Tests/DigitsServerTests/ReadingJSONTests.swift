import DigitsApp
import DigitsCore
@testable import DigitsServer
import DigitsVision
import Foundation
import Testing

/// `/api/predict`'s answer is written by hand (`ReadingJSON`): it must be the very text
/// `JSONEncoder` makes of the same `ReadingBody` (what the answer was before).
@Suite("the reading's JSON")
struct ReadingJSONTests {
    static func expectSame(_ body: ReadingBody, sourceLocation: SourceLocation = #_sourceLocation) {
        let written = String(decoding: ReadingJSON.bytes(body), as: UTF8.self)
        #expect(written == jsonLine(body), sourceLocation: sourceLocation)
    }

    @Test("real readings, with and without the layers' outputs, are byte for byte JSONEncoder's")
    func readings() throws {
        let state = try Support.state(best: true)
        var random = SeededRandom(seed: 3)
        for index in 0..<6 {
            let sample = Array(Support.mnist.test.features[(index * 784)..<((index + 1) * 784)])
            let noisy = sample.map { index % 2 == 0 ? $0 : UInt8(clamping: Int($0) + random.integer(0...120)) }
            for layers in [false, true] {
                let body = state.withModel { name, model in model.readingBody(prepared: noisy, name: name, layers: layers) }
                Self.expectSame(body)
            }
        }
    }

    @Test("numbers, names and warnings of every kind")
    func values() {
        let numbers: [Double] = [0, -0.0, 1, -1, 0.5, 0.0001, 0.9999, 1e-5, 3e-7, 123456.789, -2.5e10, 1e21, 0.1 + 0.2,
                                 .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let names = ["fast", "a.b-c_d", "Conv2D(1→16, 5×5)", "quote \" back \\ slash / tab \t line \n cr \r bell \u{07} é"]
        for (i, name) in names.enumerated() {
            let body = ReadingBody(digit: i, probabilities: numbers, certainty: numbers[i], uncertain: i % 2 == 0,
                                   warning: i == 3 ? name : nil, prepared: [0, 1, 9, 10, 99, 100, 255, -3, Int.max, Int.min],
                                   model: name,
                                   layers: i == 0 ? nil : [LayerOutput(index: i, name: name, shape: [i, 28], values: numbers)])
            Self.expectSame(body)
        }
    }
}
