import DigitsCore
import Foundation

/// Confidence that means something: temperature scaling (Guo et al. 2017) and the expected
/// calibration error.
///
/// A network's softmax is usually over-confident. Dividing its scores (logits) by one number
/// T > 1 before the softmax softens every reading without changing which digit wins; T is
/// chosen to minimise the negative log-likelihood on held-out images (a validation split,
/// never the test set). The expected calibration error (ECE) then measures how far the
/// certainty shown is from how often the reading is right: the readings are put in `bins`
/// equal-width bins of confidence, and ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|.
public enum Calibration {
    // MARK: - Temperature

    /// The mean negative log-likelihood of `labels` under softmax(logits / T), or, with `views`
    /// rows of scores per sample (test-time augmentation), under the mean of the views'
    /// softmax(logits / T). logits: (N · views, classes) row by row, labels: (N).
    public static func negativeLogLikelihood(logits: [Float], labels: [Int32], classes: Int, temperature: Float,
                                             views: Int = 1) -> Double {
        let n = labels.count, v = max(views, 1)
        guard n > 0, classes > 0, logits.count >= n * v * classes else { return .nan }
        let t = Double(temperature)
        var total = 0.0
        for i in 0..<n {
            let label = Int(labels[i])
            guard label >= 0 && label < classes else { return .nan }
            var p = 0.0
            for k in 0..<v {
                let row = (i * v + k) * classes
                var m = -Double.infinity
                for j in 0..<classes { m = max(m, Double(logits[row + j]) / t) }
                var sum = 0.0
                for j in 0..<classes { sum += Foundation.exp(Double(logits[row + j]) / t - m) }
                if v == 1 {
                    total += -(Double(logits[row + label]) / t - m - Foundation.log(sum))
                } else {
                    p += Foundation.exp(Double(logits[row + label]) / t - m) / sum
                }
            }
            if v > 1 { total += -Foundation.log(max(p / Double(v), 1e-300)) }
        }
        return total / Double(n)
    }

    /// The temperature in [`lowest`, `highest`] that minimises the negative log-likelihood,
    /// found by golden-section search on log T (the NLL is smooth and, in practice, has one
    /// minimum there).
    /// `views` rows of scores per sample: the NLL of the views' mean probabilities.
    public static func fitTemperature(logits: [Float], labels: [Int32], classes: Int, views: Int = 1,
                                      lowest: Float = 0.05, highest: Float = 20) -> Float {
        func nll(_ logT: Double) -> Double {
            negativeLogLikelihood(logits: logits, labels: labels, classes: classes, temperature: Float(Foundation.exp(logT)),
                                  views: views)
        }
        var a = Foundation.log(Double(lowest)), b = Foundation.log(Double(highest))
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = nll(c), fd = nll(d)
        for _ in 0..<60 {
            if fc < fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = nll(c) }
            else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = nll(d) }
        }
        return Float(Foundation.exp((a + b) / 2))
    }

    /// softmax(logits / T) for one row of scores (`Softmax.row`, the layer's own formula).
    public static func probabilities(logits: UnsafePointer<Float>, count: Int, temperature: Float) -> [Float] {
        var p = [Float](repeating: 0, count: count)
        guard count > 0 else { return p }
        p.withUnsafeMutableBufferPointer { out in
            if temperature == 1 {
                Softmax.row(logits, out.baseAddress!, count)
            } else {
                let scaled = (0..<count).map { logits[$0] / temperature }
                scaled.withUnsafeBufferPointer { Softmax.row($0.baseAddress!, out.baseAddress!, count) }
            }
        }
        return p
    }

    // MARK: - Expected calibration error

    /// One bin of a reliability diagram: how many readings, their mean confidence, and the
    /// fraction of them that were right.
    public struct Bin: Sendable, Equatable {
        public var lower: Float, upper: Float
        public var count: Int
        public var meanConfidence: Double
        public var accuracy: Double
    }

    /// The readings put into `bins` equal-width bins of confidence ((0, 1/bins], …, a
    /// confidence of exactly 0 in the first).
    public static func reliability(confidences: [Float], correct: [Bool], bins: Int = 15) -> [Bin] {
        let k = max(bins, 1)
        var count = [Int](repeating: 0, count: k), conf = [Double](repeating: 0, count: k), right = [Int](repeating: 0, count: k)
        for (c, ok) in zip(confidences, correct) {
            let b = min(max(Int((Double(c) * Double(k)).rounded(.up)) - 1, 0), k - 1)
            count[b] += 1
            conf[b] += Double(c)
            if ok { right[b] += 1 }
        }
        return (0..<k).map { b in
            Bin(lower: Float(b) / Float(k), upper: Float(b + 1) / Float(k), count: count[b],
                meanConfidence: count[b] > 0 ? conf[b] / Double(count[b]) : 0,
                accuracy: count[b] > 0 ? Double(right[b]) / Double(count[b]) : 0)
        }
    }

    /// Σ_b (n_b / N) · |accuracy_b − confidence_b| over `bins` equal-width bins (0 for no readings).
    public static func expectedCalibrationError(confidences: [Float], correct: [Bool], bins: Int = 15) -> Double {
        let n = min(confidences.count, correct.count)
        guard n > 0 else { return 0 }
        return reliability(confidences: confidences, correct: correct, bins: bins)
            .reduce(0) { $0 + Double($1.count) / Double(n) * abs($1.accuracy - $1.meanConfidence) }
    }
}

// MARK: - A model's scores and its temperature

extension TrainedModel {
    /// The metadata key that holds the temperature.
    public static let temperatureKey = "temperature"

    /// The temperature its softmax divides the scores by (1 when the file has none, as files
    /// from before calibration).
    public var temperature: Float {
        get { metadata[Self.temperatureKey].flatMap(Float.init) ?? 1 }
        set { metadata[Self.temperatureKey] = newValue == 1 ? nil : "\(newValue)" }
    }

    /// Whether the model's last layer gives scores (logits) that a temperature may divide: not a
    /// softmax or sigmoid output.
    public var outputsLogits: Bool {
        if model.layers.last is Softmax || model.layers.last is SoftmaxWithDiagonalGradient { return false }
        if case .activation? = model.layers.last?.spec { return false }
        return true
    }

    /// Checks that a stored temperature is a finite number in (0, 1000], and that only a model
    /// whose outputs are scores has one.
    func checkTemperature(path: String) throws(AppError) {
        guard let text = metadata[Self.temperatureKey] else { return }
        guard let t = Float(text), t.isFinite, t > 0, t <= 1000 else {
            throw AppError("model file \(path) has a temperature of \"\(text)\" in its metadata: it must be a number above 0 and at most 1000")
        }
        guard outputsLogits else {
            throw AppError("model file \(path) has a temperature, but its network ends in a softmax or sigmoid: only scores can be calibrated")
        }
    }

    /// The raw scores for every sample of `data` in each of `views` (the image alone by
    /// default): (N · V, classes) row by row, sample i's views in rows i·V ..< (i + 1)·V.
    public func logits(on data: Dataset, views tta: TestTimeAugmentation = .none, chunk: Int = 128) -> [Float] {
        let classes = outputCount ?? 0, v = tta.count
        var out = [Float](repeating: 0, count: data.count * v * classes)
        let x = Tensor(shape: [0])
        Self.forEachChunk(of: data, views: v, chunk: chunk) { start, b, bytes in
            tta.expand(bytes, samples: b, sampleShape: data.sampleShape, transform: inputTransform, into: x)
            let y = model.forward(x, training: false)
            for i in 0..<(b * v * classes) { out[start * v * classes + i] = y.data[i] }
        }
        return out
    }

    /// Fits the temperature on `data` (held-out images, not the test set), read in the model's
    /// `views`, stores it, and returns it with the NLL before and after.
    @discardableResult
    public mutating func calibrate(on data: Dataset) -> (temperature: Float, nllBefore: Double, nllAfter: Double) {
        let classes = outputCount ?? 10, v = views.count
        let z = logits(on: data, views: views)
        let t = Calibration.fitTemperature(logits: z, labels: data.labels, classes: classes, views: v)
        let before = Calibration.negativeLogLikelihood(logits: z, labels: data.labels, classes: classes, temperature: 1, views: v)
        let after = Calibration.negativeLogLikelihood(logits: z, labels: data.labels, classes: classes, temperature: t, views: v)
        temperature = t
        return (t, before, after)
    }

    /// The calibrated confidence of each reading of `data` (in the model's `views`) and whether
    /// it was right, and the ECE.
    public func calibrationReport(on data: Dataset, bins: Int = 15) -> (ece: Double, bins: [Calibration.Bin], accuracy: Double) {
        let classes = outputCount ?? 10
        let probabilities = probabilities(on: data, views: views)
        var confidences = [Float](), correct = [Bool]()
        confidences.reserveCapacity(data.count); correct.reserveCapacity(data.count)
        probabilities.withUnsafeBufferPointer { pp in
            for i in 0..<data.count {
                let p = pp.baseAddress! + i * classes
                let best = (0..<classes).max { p[$0] < p[$1] } ?? 0
                confidences.append(p[best])
                correct.append(best == Int(data.labels[i]))
            }
        }
        let right = correct.filter { $0 }.count
        return (Calibration.expectedCalibrationError(confidences: confidences, correct: correct, bins: bins),
                Calibration.reliability(confidences: confidences, correct: correct, bins: bins),
                data.count > 0 ? Double(right) / Double(data.count) : 0)
    }

    /// The probabilities the model's outputs stand for: softmax(scores / T) for scores, the
    /// outputs themselves after a softmax, sigmoid outputs normalised to sum to 1.
    func probabilitiesFromScores(_ out: UnsafePointer<Float>, count: Int) -> [Float] {
        if model.layers.last is Softmax || model.layers.last is SoftmaxWithDiagonalGradient {
            return (0..<count).map { out[$0] }
        } else if case .activation(.sigmoid)? = model.layers.last?.spec {
            let sum = (0..<count).reduce(Float(0)) { $0 + out[$1] }
            return (0..<count).map { out[$0] / max(sum, .leastNormalMagnitude) }
        }
        return Calibration.probabilities(logits: out, count: count, temperature: temperature)
    }
}
