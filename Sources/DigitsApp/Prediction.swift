import DigitsCore
import DigitsVision
import Foundation

/// What a model reads in one image: the digit, how sure it is, and every class's probability.
public struct Prediction: Sendable, Equatable {
    /// The class probabilities, 10 of them, summing to 1.
    public var probabilities: [Float]
    /// With test-time augmentation, whether every view read the same digit (true without).
    public var viewsAgree: Bool = true
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
        let r = read(sample)
        return Prediction(probabilities: r.probabilities, viewsAgree: r.viewsAgree)
    }

    /// Reads the digit in an image file (PNG or JPEG): prepares it as MNIST's digits were
    /// prepared, then predicts. Returns the prepared 28×28 too.
    public func read(imageAt url: URL) throws(ImageError) -> (prepared: [UInt8], prediction: Prediction) {
        let prepared = try DigitPreparation.prepare(contentsOf: url)
        return (prepared, predict(prepared))
    }
}

// MARK: - Where model and data meet

/// A model's reading of an image file, with what preparation found.
public struct Reading: Sendable, Equatable {
    /// The prepared 28×28 digit, 0 background … 255 ink.
    public var prepared: [UInt8]
    public var prediction: Prediction
    /// Reasons to doubt the reading (low certainty, too little ink, ink of no digit's shape).
    public var warnings: [String]
}

extension TrainedModel {
    /// Values in one input sample, or nil when the shape's product overflows.
    static func count(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// The number of classes the model outputs (the product of its output shape).
    public var outputCount: Int? { Self.count(model.outputShape) }

    /// Checks that the model can be run on `data`: one input per sample pixel and one output
    /// per class. `modelPath` and `dataName` name the two in the error.
    public func check(fits data: Dataset, modelPath: String, dataName: String) throws(AppError) {
        guard let inputs = Self.count(model.inputShape), inputs == data.sampleSize else {
            throw AppError("model \(modelPath) takes inputs of shape \(model.inputShape), but \(dataName) has samples of \(data.sampleSize) pixels")
        }
        guard let outputs = outputCount, outputs == data.classes else {
            throw AppError("model \(modelPath) has \(outputCount.map(String.init) ?? "too many") outputs, but \(dataName) has \(data.classes) classes: it was not trained for these digits")
        }
    }

    /// Checks that the model reads 28×28 digits into 10 classes, as prepared pictures are.
    public func checkReadsDigits(modelPath: String) throws(AppError) {
        let inputs = Self.count(model.inputShape)
        guard inputs == DigitPreparation.side * DigitPreparation.side else {
            throw AppError("model \(modelPath) takes inputs of shape \(model.inputShape), not a 28×28 digit: it cannot read pictures")
        }
        guard outputCount == 10 else {
            throw AppError("model \(modelPath) has \(outputCount.map(String.init) ?? "too many") outputs, not one per digit 0-9")
        }
    }

    /// `predict(_:)`, refusing outputs that are not finite numbers (damaged weights).
    public func checkedPredict(_ sample: [UInt8], modelPath: String) throws(AppError) -> Prediction {
        let p = predict(sample)
        guard p.probabilities.count == 10, p.probabilities.allSatisfy(\.isFinite) else {
            throw AppError("model \(modelPath) gives outputs that are not finite numbers (NaN or infinity): its weights or input scaling are damaged")
        }
        return p
    }

    /// Reads the digit in an image file: checks the model reads 28×28 digits, prepares the
    /// picture as MNIST's digits were prepared, predicts, and collects warnings.
    public func reading(imageAt url: URL, modelPath: String) throws(AppError) -> Reading {
        try checkReadsDigits(modelPath: modelPath)
        let image: Image
        do { image = try ImageIO.read(url) } catch { throw AppError(error.description) }
        return try reading(image: image, source: url.path, modelPath: modelPath)
    }

    /// `reading(imageAt:modelPath:)` for a file's bytes already in memory (PNG or JPEG).
    public func reading(imageBytes: [UInt8], name: String, modelPath: String) throws(AppError) -> Reading {
        try checkReadsDigits(modelPath: modelPath)
        let image: Image
        do { image = try ImageIO.decode(imageBytes, name: name) } catch { throw AppError(error.description) }
        return try reading(image: image, source: name, modelPath: modelPath)
    }

    /// Prepares a decoded picture, predicts, and collects the warnings (low certainty below the
    /// model's `flagBelow`).
    func reading(image: Image, source: String, modelPath: String) throws(AppError) -> Reading {
        let digit: PreparedDigit
        do { digit = try DigitPreparation.analyse(image, source: source) } catch {
            throw AppError(error.description)
        }
        let p = try checkedPredict(digit.pixels, modelPath: modelPath)
        var warnings = digit.warnings
        if p.confidence < flagBelow { warnings.append("low certainty: the image may not hold a single clear digit") }
        else if flagsDisagreement && !p.viewsAgree {
            warnings.append(Self.disagreementWarning + ": the image may not hold a single clear digit")
        }
        return Reading(prepared: digit.pixels, prediction: p, warnings: warnings)
    }

    /// The start of the warning a reading gets when its test-time augmentation views disagree.
    public static let disagreementWarning = "views disagree"

    /// The metadata key that says a reading whose test-time augmentation views read different
    /// digits is flagged ("1"), as `digits calibrate --flag` decides on validation pictures.
    public static let flagDisagreementKey = "flag_views_disagree"

    /// Whether a reading whose views read different digits is flagged (only with test-time
    /// augmentation, and only when the model file says so).
    public var flagsDisagreement: Bool {
        get { testTimeAugmentation != nil && metadata[Self.flagDisagreementKey] == "1" }
        set { metadata[Self.flagDisagreementKey] = newValue ? "1" : nil }
    }

    /// The metadata key of the certainty below which a reading is flagged.
    public static let flagBelowKey = "flag_below"

    /// The certainty below which a reading is flagged: the model file's `flag_below` (tuned on
    /// validation pictures for the shipped reader), else `Prediction.lowConfidence`.
    public var flagBelow: Float {
        get { metadata[Self.flagBelowKey].flatMap(Float.init).flatMap { $0.isFinite && $0 >= 0 && $0 <= 1 ? $0 : nil }
              ?? Prediction.lowConfidence }
        set { metadata[Self.flagBelowKey] = "\(newValue)" }
    }
}

extension Evaluation {
    /// Checks the loss is a finite number (a model with damaged weights gives NaN).
    public func checkFinite(modelPath: String) throws(AppError) {
        guard loss.isFinite else {
            throw AppError("model \(modelPath) gives a loss that is not a finite number (\(loss)): its weights or input scaling are damaged")
        }
    }
}
