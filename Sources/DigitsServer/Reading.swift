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
    /// True below the model's `flagBelow` (its file's `flag_below`, else `Prediction.lowConfidence`),
    /// or when its test-time views disagree and the file says to flag that: as `digits predict` flags.
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

    /// Reads a prepared 28×28 sample, flagging it as `digits predict` does.
    func readingBody(prepared: [UInt8], name: String, layers: Bool) -> ReadingBody {
        let p = predict(prepared)
        let warning: String? = p.confidence < flagBelow
            ? "low certainty: this may not be a digit the network knows, or it may be drawn unusually"
            : flagsDisagreement && !p.viewsAgree
            ? "\(Self.disagreementWarning): the views of this picture read different digits, so it may be drawn unusually"
            : nil
        return ReadingBody(
            digit: p.digit, probabilities: p.probabilities.map { jsonNumber($0, places: 10000) },
            certainty: jsonNumber(p.confidence, places: 10000), uncertain: warning != nil, warning: warning,
            prepared: prepared.map(Int.init), model: name,
            layers: layers ? layerOutputs(for: prepared) : nil)
    }
}
