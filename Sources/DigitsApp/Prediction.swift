import DigitsCore
import DigitsVision
import Foundation

/// What a model reads in one image: the digit, how sure it is, and every class's probability.
public struct Prediction: Sendable, Equatable {
    /// The class probabilities, 10 of them, summing to 1.
    public var probabilities: [Float]
    /// The classes from most to least likely.
    public var ranked: [Int] { probabilities.indices.sorted { probabilities[$0] > probabilities[$1] } }
    /// The most likely digit.
    public var digit: Int { ranked[0] }
    /// Its probability.
    public var confidence: Float { probabilities[digit] }
    /// Below this certainty a reading is flagged as doubtful.
    public static let lowConfidence: Float = 0.6
    /// Whether the reading is doubtful.
    public var isUncertain: Bool { confidence < Self.lowConfidence }

    /// "7 98.5%, 9 0.9%, 3 0.3%"
    public var topThree: String {
        ranked.prefix(3).map { "\($0) \(String(format: "%.1f", probabilities[$0] * 100))%" }.joined(separator: ", ")
    }
}

extension TrainedModel {
    /// Reads one sample of bytes (0 background … 255 ink, as many as the model's input).
    public func predict(_ sample: [UInt8]) -> Prediction {
        Prediction(probabilities: probabilities(for: sample))
    }

    /// Reads the digit in an image file (PNG or JPEG): prepares it as MNIST's digits were
    /// prepared, then predicts. Returns the prepared 28×28 too.
    public func read(imageAt url: URL) throws(ImageError) -> (prepared: [UInt8], prediction: Prediction) {
        let prepared = try DigitPreparation.prepare(contentsOf: url)
        return (prepared, predict(prepared))
    }
}
