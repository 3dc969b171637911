import DigitsCore
import Foundation

// MARK: - The option as text

extension TestTimeAugmentation {
    /// The most views a model file may ask for.
    public static let maximumViews = 32
    /// The largest shift a view may make, in pixels.
    public static let maximumShift: Float = 4
    /// The largest rotation a view may make, in degrees.
    public static let maximumRotation: Float = 30
    /// The scales a view may make.
    public static let scaleRange: ClosedRange<Float> = 0.5...2

    /// The views `--tta` reads with when the model file names none: the image rotated by 5° either
    /// way (chosen on the reader's validation split among sets of at most three views; the model
    /// card lists the others tried).
    public static let standard = TestTimeAugmentation(views: [View(rotation: -5), View(rotation: 5)])

    /// The option as the model file stores it: views separated by `;`, each
    /// `shiftX,shiftY,rotation,scale` (pixels right, pixels down, degrees, factor), e.g.
    /// `0,0,0,1;0,-1,0,1;0,1,0,1`.
    public var text: String {
        views.map { v in [v.shiftX, v.shiftY, v.rotation, v.scale].map { Self.number($0) }.joined(separator: ",") }
            .joined(separator: ";")
    }

    /// A number as short as it reads back exactly ("1", "-0.5").
    private static func number(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)"
    }

    /// Reads the option's text (`text`), refusing anything but 1 to `maximumViews` views of four
    /// finite numbers within the limits (shift ≤ `maximumShift` px, rotation ≤ `maximumRotation`°,
    /// scale in `scaleRange`). `what` names the text's source in the error.
    public init(parsing text: String, what: String) throws(AppError) {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        guard text.utf8.count <= 4096, !text.isEmpty, parts.count <= Self.maximumViews else {
            throw AppError("\(what) must list 1 to \(Self.maximumViews) views separated by \";\" (each shiftX,shiftY,rotation,scale), not \(Self.quoted(text))")
        }
        var views: [View] = []
        for (i, part) in parts.enumerated() {
            let numbers = part.split(separator: ",", omittingEmptySubsequences: false)
                .map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 4, let dx = numbers[0], let dy = numbers[1], let angle = numbers[2], let scale = numbers[3],
                  [dx, dy, angle, scale].allSatisfy(\.isFinite) else {
                throw AppError("\(what): view \(i + 1) (\(Self.quoted(String(part)))) must be four numbers shiftX,shiftY,rotation,scale")
            }
            guard abs(dx) <= Self.maximumShift, abs(dy) <= Self.maximumShift, abs(angle) <= Self.maximumRotation,
                  Self.scaleRange.contains(scale) else {
                throw AppError("\(what): view \(i + 1) (\(Self.quoted(String(part)))) is out of range: shifts at most \(Self.number(Self.maximumShift)) px, rotation at most \(Self.number(Self.maximumRotation))°, scale from \(Self.scaleRange.lowerBound) to \(Self.number(Self.scaleRange.upperBound))")
            }
            views.append(View(shiftX: dx, shiftY: dy, rotation: angle, scale: scale))
        }
        self.init(views: views)
    }

    /// The text in quotes, cut short when long.
    private static func quoted(_ text: String) -> String {
        "\"" + (text.count > 60 ? String(text.prefix(60)) + "…" : text) + "\""
    }

    /// "3 views (shift 0,-1; shift 0,1 and the image itself)": what a command prints.
    public var summary: String {
        let parts = views.map { v -> String in
            if v.isIdentity { return "the image" }
            var p: [String] = []
            if v.shiftX != 0 || v.shiftY != 0 { p.append("shift \(Self.number(v.shiftX)),\(Self.number(v.shiftY)) px") }
            if v.rotation != 0 { p.append("rotation \(Self.number(v.rotation))°") }
            if v.scale != 1 { p.append("scale \(v.scale)") }
            return p.joined(separator: " ")
        }
        return "\(count) view\(count == 1 ? "" : "s") (\(parts.joined(separator: "; ")))"
    }
}

// MARK: - What a command's flags choose

/// How a command reads each image, as its `--tta`, `--no-tta` and `--tta-views` say: `views`
/// (when given) replaces the model file's option, else `tta` overrides it
/// (`TrainedModel.overrideTestTimeAugmentation`); neither leaves the file's option.
public struct ReadingChoice: Sendable, Equatable {
    /// `--tta` (true) or `--no-tta` (false); nil for neither.
    public var tta: Bool?
    /// `--tta-views`, parsed.
    public var views: TestTimeAugmentation?

    public init(tta: Bool? = nil, views: TestTimeAugmentation? = nil) {
        self.tta = tta
        self.views = views
    }

    /// Sets `trained`'s reading as the flags say.
    public func apply(to trained: inout TrainedModel) {
        if let views { trained.testTimeAugmentation = views } else { trained.overrideTestTimeAugmentation(tta) }
    }
}

// MARK: - A model file's option

extension TrainedModel {
    /// The metadata key that holds the test-time augmentation option (`TestTimeAugmentation.text`).
    public static let testTimeAugmentationKey = "tta"

    /// The views the model file asks each image to be read in, their probabilities averaged; nil
    /// when it asks for none (the image alone). Setting it writes the option (nil removes it);
    /// `--tta`/`--no-tta` set it on the loaded copy. Other views drop the option to flag readings
    /// whose views disagree (`flagsDisagreement`), which was chosen for the old ones.
    public var testTimeAugmentation: TestTimeAugmentation? {
        get {
            metadata[Self.testTimeAugmentationKey].flatMap { text in
                try? TestTimeAugmentation(parsing: text, what: "tta")
            }
        }
        set {
            if newValue?.text != metadata[Self.testTimeAugmentationKey] { metadata[Self.flagDisagreementKey] = nil }
            metadata[Self.testTimeAugmentationKey] = newValue?.text
        }
    }

    /// The views a reading uses: the file's option, else the image alone.
    public var views: TestTimeAugmentation { testTimeAugmentation ?? .none }

    /// Checks the stored option is well formed (`TestTimeAugmentation.init(parsing:what:)`).
    func checkTestTimeAugmentation(path: String) throws(AppError) {
        guard let text = metadata[Self.testTimeAugmentationKey] else { return }
        _ = try TestTimeAugmentation(parsing: text, what: "model file \(path), test-time augmentation option (\"tta\" in its metadata)")
        guard let inputs = Self.count(model.inputShape), Augmentation.imageSize(of: model.inputShape) != nil, inputs > 0 else {
            throw AppError("model file \(path) has a test-time augmentation option, but its inputs of shape \(model.inputShape) are not images")
        }
    }

    /// Applies `--tta` (true: the file's views, else `TestTimeAugmentation.standard`) or
    /// `--no-tta` (false: the image alone); nil leaves the file's option.
    public mutating func overrideTestTimeAugmentation(_ on: Bool?) {
        switch on {
        case true?: if testTimeAugmentation == nil { testTimeAugmentation = .standard }
        case false?: testTimeAugmentation = nil
        case nil: break
        }
    }

    /// One line saying how the model reads: with test-time augmentation (and which views), or
    /// nil when it reads the image alone.
    public var testTimeAugmentationNote: String? {
        guard let tta = testTimeAugmentation else { return nil }
        return "Reading with test-time augmentation: \(tta.summary), probabilities averaged (--no-tta reads the image alone)."
    }

    // MARK: - Reading many samples

    /// The class probabilities of `samples` samples of bytes (each as many as the model's
    /// input) read in `views`, averaged over the views: (samples, classes) row by row. All
    /// views of all samples go through the network in one batch.
    public func probabilities(_ src: UnsafePointer<UInt8>, samples: Int, views tta: TestTimeAugmentation) -> [Float] {
        read(src, samples: samples, views: tta).probabilities
    }

    /// `probabilities(_:samples:views:)`, and for each sample whether every view read the same
    /// digit (its highest class).
    func read(_ src: UnsafePointer<UInt8>, samples: Int, views tta: TestTimeAugmentation)
        -> (probabilities: [Float], viewsAgree: [Bool]) {
        let classes = outputCount ?? 0
        var out = [Float](repeating: 0, count: samples * classes)
        var agree = [Bool](repeating: true, count: samples)
        guard samples > 0, classes > 0 else { return (out, agree) }
        let x = Tensor(shape: [0])
        tta.expand(src, samples: samples, sampleShape: model.inputShape, transform: inputTransform, into: x)
        let y = model(x)
        let v = tta.count
        var perView = [Float](repeating: 0, count: samples * v * classes)
        perView.withUnsafeMutableBufferPointer { p in
            for r in 0..<(samples * v) {
                let row = probabilitiesFromScores(y.data + r * classes, count: classes)
                for j in 0..<classes { p[r * classes + j] = row[j] }
            }
            for b in 0..<samples {
                let first = argmax(p.baseAddress! + b * v * classes, classes)
                agree[b] = (1..<max(v, 1)).allSatisfy { argmax(p.baseAddress! + (b * v + $0) * classes, classes) == first }
            }
        }
        perView.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                tta.average(p.baseAddress!, samples: samples, classes: classes, into: o.baseAddress!)
            }
        }
        return (out, agree)
    }

    /// The averaged probabilities for every sample of `data` read in `views`, `chunk` views at
    /// a time: (N, classes) row by row.
    public func probabilities(on data: Dataset, views tta: TestTimeAugmentation, chunk: Int = 128) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(data.count * (outputCount ?? 0))
        Self.forEachChunk(of: data, views: tta.count, chunk: chunk) { _, samples, bytes in
            out += probabilities(bytes, samples: samples, views: tta)
        }
        return out
    }

    /// Calls `body` on the samples of `data` in order, as many at a time as fit `chunk` rows
    /// through the network when each is read in `views` views (at least one sample): the first
    /// sample's index, how many, and their bytes.
    ///
    /// A layer's buffers grow to the largest batch it has seen, so the chunk, not the size of
    /// `data`, sets the memory a reading of many samples leaves behind.
    static func forEachChunk(of data: Dataset, views: Int, chunk: Int,
                             _ body: (_ start: Int, _ samples: Int, _ bytes: UnsafePointer<UInt8>) -> Void) {
        let s = data.sampleSize, step = max(1, chunk / max(views, 1))
        data.features.withUnsafeBufferPointer { f in
            var start = 0
            while start < data.count {
                let b = min(step, data.count - start)
                body(start, b, f.baseAddress! + start * s)
                start += b
            }
        }
    }

    /// Loss and accuracy read in the model's views (`views`): the prediction is the highest
    /// class of the averaged probabilities as `predict` reads them (with the file's temperature);
    /// the loss is the mean negative log-likelihood of the averaged probabilities at temperature
    /// 1, so that it measures the network as the plain evaluation's cross-entropy does, whether
    /// or not the file is calibrated (one identity view gives the plain loss).
    func evaluateWithViews(on data: Dataset) -> Evaluation {
        let classes = outputCount ?? 0
        let read = probabilities(on: data, views: views)
        var uncalibrated = self
        uncalibrated.temperature = 1
        let forLoss = temperature == 1 ? read : uncalibrated.probabilities(on: data, views: views)
        var predictions = [Int32](repeating: 0, count: data.count)
        var loss = 0.0, right = 0
        read.withUnsafeBufferPointer { p in
            forLoss.withUnsafeBufferPointer { q in
                for i in 0..<data.count {
                    let best = argmax(p.baseAddress! + i * classes, classes)
                    predictions[i] = Int32(best)
                    if best == Int(data.labels[i]) { right += 1 }
                    let label = Int(data.labels[i])
                    let row = q.baseAddress! + i * classes
                    loss += label >= 0 && label < classes ? -Foundation.log(max(Double(row[label]), 1e-300)) : .nan
                }
            }
        }
        let n = max(data.count, 1)
        return Evaluation(loss: loss / Double(n), accuracy: Double(right) / Double(n), count: data.count, predictions: predictions)
    }
}
