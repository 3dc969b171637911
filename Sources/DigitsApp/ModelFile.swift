import DigitsCore
import DigitsModelFile
import Foundation

/// A trained model as the app saves and loads it: the network, how to feed it, the loss it was
/// trained with, and what it scored.
public struct TrainedModel {
    public var model: Sequential
    public var inputTransform: InputTransform
    public var loss: LossKind
    public var metadata: [String: String]

    public init(model: Sequential, inputTransform: InputTransform, loss: LossKind, metadata: [String: String] = [:]) {
        self.model = model
        self.inputTransform = inputTransform
        self.loss = loss
        self.metadata = metadata
    }

    /// The default model path: `model.safetensors` in the working directory.
    public static let defaultPath = "model.safetensors"

    /// Saves to `path` atomically, as safetensors.
    public func save(to path: String) throws(AppError) {
        var meta = metadata
        meta["loss"] = loss.rawValue
        do {
            try Safetensors.save(model, inputTransform: inputTransform, metadata: meta, to: URL(fileURLWithPath: path))
        } catch { throw AppError(error.description) }
    }

    /// Loads a model saved by `save`.
    public static func load(from path: String) throws(AppError) -> TrainedModel {
        let loaded: Safetensors.LoadedModel
        do { loaded = try Safetensors.load(from: URL(fileURLWithPath: path), custom: TutorialQuirks.makeLayer) } catch {
            if error.problem == "no such file" {
                throw AppError("model file \(path) does not exist: train one first with `digits train` (or pass --model PATH)")
            }
            throw AppError(error.description)
        }
        let loss = loaded.metadata["loss"].flatMap(LossKind.init(rawValue:)) ?? .crossEntropy
        let trained = TrainedModel(model: loaded.model, inputTransform: loaded.inputTransform, loss: loss, metadata: loaded.metadata)
        try trained.checkTemperature(path: path)
        try trained.checkTestTimeAugmentation(path: path)
        return trained
    }

    /// Loss, accuracy and predictions on `data`. With test-time augmentation (`views`), each
    /// sample is read in every view and the loss is the negative log-likelihood of the averaged
    /// probabilities.
    public func evaluate(on data: Dataset) -> Evaluation {
        if testTimeAugmentation != nil { return evaluateWithViews(on: data) }
        return Evaluator.evaluate(model, loss: loss.make(), on: data, transform: inputTransform)
    }

    /// The class probabilities for one sample of bytes: softmax of the scores divided by the
    /// model's `temperature` (1 unless calibrated), or the outputs themselves when the network
    /// ends in a softmax; sigmoid outputs are normalised to sum to 1. With test-time
    /// augmentation (`views`), the mean of the probabilities of every view, read in one batch.
    /// A sample shorter than the input is padded with zeros, a longer one cut.
    public func probabilities(for sample: [UInt8]) -> [Float] {
        read(sample).probabilities
    }

    /// `probabilities(for:)`, and whether every view read the same digit.
    func read(_ sample: [UInt8]) -> (probabilities: [Float], viewsAgree: Bool) {
        let inputs = Self.count(model.inputShape) ?? 0
        var bytes = sample
        if bytes.count != inputs { bytes = Array(sample.prefix(inputs)) + [UInt8](repeating: 0, count: max(0, inputs - sample.count)) }
        return bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return ([Float](repeating: .nan, count: outputCount ?? 0), true) }
            let r = read(base, samples: 1, views: views)
            return (r.probabilities, r.viewsAgree.first ?? true)
        }
    }
}
