import DigitsApp
import DigitsCore
import Foundation
import Testing

/// Test-time augmentation as a model file's option: reading with the identity view alone is
/// plain reading, the option round-trips through the file, `--tta`/`--no-tta` override it, and a
/// hostile value is refused on load.
@Suite("Test-time reading")
struct TestTimeReadingTests {
    /// A small convolutional model on (1, 28, 28), seeded, with a temperature.
    static func model() throws -> TrainedModel {
        var rng = RandomSource(seed: 5)
        let network = try Sequential(inputShape: [1, 28, 28], specs: [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: true), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2), .flatten, .dense(inputs: 4 * 14 * 14, outputs: 10, bias: true),
        ], rng: &rng)
        var trained = TrainedModel(model: network, inputTransform: .unit, loss: .crossEntropy)
        trained.temperature = 1.5
        return trained
    }

    static let samples: [[UInt8]] = (0..<4).map { (n: Int) -> [UInt8] in
        (0..<784).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * (n + 3) + n * 17) }
    }

    @Test("Reading with the identity view alone gives exactly the plain reading")
    func identity() throws {
        var model = try Self.model()
        let plain = Self.samples.map { model.predict($0).probabilities }
        model.testTimeAugmentation = TestTimeAugmentation(views: [.identity])
        #expect(Self.samples.map { model.predict($0).probabilities } == plain)
        // And a whole set (read in one batch, so summed in another order than one by one): the
        // same predictions and accuracy as without.
        let data = Dataset(sampleShape: [1, 28, 28], features: Self.samples.flatMap { $0 }, labels: [1, 2, 3, 4], classes: 10)
        let withViews = model.evaluate(on: data)
        let probabilities = model.probabilities(on: data, views: .none)
        for (a, b) in zip(probabilities, plain.flatMap { $0 }) { #expect(abs(a - b) < 1e-5) }
        model.testTimeAugmentation = nil
        let without = model.evaluate(on: data)
        #expect(withViews.predictions == without.predictions && withViews.accuracy == without.accuracy)
        // The loss too, although the model is calibrated (temperature 1.5): both are the network's
        // cross-entropy at temperature 1.
        #expect(abs(withViews.loss - without.loss) <= 1e-5 * max(1, abs(without.loss)), "\(withViews.loss) against \(without.loss)")
    }

    @Test("Other views, or none, drop the option to flag readings whose views disagree")
    func disagreementFlagFollowsTheViews() throws {
        var model = try Self.model()
        let views = TestTimeAugmentation(views: [.identity, .init(rotation: 5)])
        model.testTimeAugmentation = views
        model.flagsDisagreement = true
        model.testTimeAugmentation = views                      // the same views: kept
        #expect(model.flagsDisagreement)
        model.testTimeAugmentation = TestTimeAugmentation(views: [.identity, .init(rotation: -5)])
        #expect(model.metadata[TrainedModel.flagDisagreementKey] == nil)
        model.flagsDisagreement = true
        model.overrideTestTimeAugmentation(false)                // --no-tta
        #expect(model.metadata[TrainedModel.flagDisagreementKey] == nil)
        model.overrideTestTimeAugmentation(true)                 // --tta again: the standard views, no flag
        #expect(!model.flagsDisagreement)
    }

    @Test("calibrate without --flag removes a flag threshold tuned for the old temperature, and says so")
    func recalibrationDropsTheOldThreshold() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 300, test: 20)
        var model = try Self.model()
        model.flagBelow = 0.45
        let path = dir.appendingPathComponent("flagged.safetensors").path
        try model.save(to: path)
        let r = try DigitsCommand.run(["calibrate", "--model", path, "--data", dir.path, "--validation", "100"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("flag threshold was tuned for its old temperature and is removed"), "\(r.stdout)")
        let saved = try TrainedModel.load(from: path)
        #expect(saved.metadata[TrainedModel.flagBelowKey] == nil && saved.flagBelow == Prediction.lowConfidence)
    }

    @Test("A set read a few samples at a time: the same scores and probabilities for any chunk, and the probabilities are the views' mean softmax of the scores",
          arguments: [1, 2, 5, 128])
    func chunks(chunk: Int) throws {
        let model = try Self.model()
        let views = TestTimeAugmentation(views: [.identity, .init(rotation: 5)])
        let data = Dataset(sampleShape: [1, 28, 28], features: Self.samples.flatMap { $0 }, labels: [1, 2, 3, 4], classes: 10)
        let logits = model.logits(on: data, views: views, chunk: chunk)
        let probabilities = model.probabilities(on: data, views: views, chunk: chunk)
        #expect(logits.count == 4 * 2 * 10 && probabilities.count == 4 * 10)
        let wholeLogits = model.logits(on: data, views: views, chunk: 1000)
        for (a, b) in zip(logits, wholeLogits) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        let t = model.temperature
        for i in 0..<4 {
            let mean = (0..<10).map { j in
                (0..<2).reduce(Float(0)) { sum, v in
                    let row = Array(logits[((i * 2 + v) * 10)..<((i * 2 + v + 1) * 10)]).map { $0 / t }
                    let m = row.max()!, e = row.map { Foundation.exp($0 - m) }
                    return sum + e[j] / e.reduce(0, +) / 2
                }
            }
            for j in 0..<10 { #expect(abs(probabilities[i * 10 + j] - mean[j]) < 1e-5) }
        }
    }

    @Test("Several views: the reading is the mean of the views' readings, computed in one batch")
    func mean() throws {
        var model = try Self.model()
        let views = TestTimeAugmentation(views: [.identity, .init(shiftX: 1), .init(rotation: -5)])
        let sample = Self.samples[2]
        let each = views.views.map { view -> [Float] in
            var one = model
            one.testTimeAugmentation = TestTimeAugmentation(views: [view])
            return one.predict(sample).probabilities
        }
        model.testTimeAugmentation = views
        let p = model.predict(sample).probabilities
        for j in 0..<10 { #expect(abs(p[j] - (each[0][j] + each[1][j] + each[2][j]) / 3) < 1e-6) }
        #expect(abs(p.reduce(0, +) - 1) < 1e-5)
    }

    @Test("viewsAgree says whether every view read the same digit; flagging disagreement needs the file's say and views")
    func agreement() throws {
        var model = try Self.model()
        let views = TestTimeAugmentation(views: [.identity, .init(shiftX: 3, rotation: 20)])
        var seen = Set<Bool>()
        var rng = RandomSource(seed: 11)
        for _ in 0..<40 {
            let sample = (0..<784).map { _ in UInt8(rng.nextUnit() < 0.2 ? 255 : 0) }
            let digits = views.views.map { view -> Int in
                var one = model
                one.testTimeAugmentation = TestTimeAugmentation(views: [view])
                return one.predict(sample).digit
            }
            model.testTimeAugmentation = views
            let p = model.predict(sample)
            #expect(p.viewsAgree == (digits[0] == digits[1]))
            seen.insert(p.viewsAgree)
            model.testTimeAugmentation = nil
            #expect(model.predict(sample).viewsAgree, "one view always agrees with itself")
        }
        #expect(seen == [true, false], "both cases were exercised")
        model.flagsDisagreement = true
        #expect(!model.flagsDisagreement, "no views, nothing to disagree")
        model.testTimeAugmentation = views
        #expect(!model.flagsDisagreement, "an option set for other views is dropped with them")
        model.flagsDisagreement = true
        #expect(model.flagsDisagreement)
        model.flagsDisagreement = false
        #expect(model.metadata[TrainedModel.flagDisagreementKey] == nil)
    }

    @Test("The option round-trips through the model file; --tta and --no-tta override it")
    func roundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try Self.model()
        let views = TestTimeAugmentation(views: [.init(rotation: -5), .init(shiftX: -1, shiftY: 0.5, rotation: 2.5, scale: 1.1)])
        #expect(try TestTimeAugmentation(parsing: views.text, what: "test") == views)
        model.testTimeAugmentation = views
        let path = dir.appendingPathComponent("tta.safetensors").path
        try model.save(to: path)
        var loaded = try TrainedModel.load(from: path)
        #expect(loaded.testTimeAugmentation == views)
        #expect(loaded.testTimeAugmentationNote?.contains("2 views") == true)
        #expect(loaded.predict(Self.samples[0]) == model.predict(Self.samples[0]))
        loaded.overrideTestTimeAugmentation(nil)
        #expect(loaded.testTimeAugmentation == views)
        loaded.overrideTestTimeAugmentation(false)
        #expect(loaded.testTimeAugmentation == nil && loaded.testTimeAugmentationNote == nil)
        loaded.overrideTestTimeAugmentation(true)
        #expect(loaded.testTimeAugmentation == .standard, "--tta on a file without the option reads the standard views")
        // A file without the option reads the image alone.
        model.testTimeAugmentation = nil
        try model.save(to: path)
        #expect(try TrainedModel.load(from: path).testTimeAugmentation == nil)
    }

    @Test("A hostile option is refused on load with one clear error naming the file and the option",
          arguments: ["", "abc", "0,0,0", "0,0,0,1,5", "nan,0,0,1", "0,inf,0,1", "9,0,0,1", "0,0,45,1", "0,0,0,0", "0,0,0,-1",
                      "0,0,0,1;", String(repeating: "0,0,0,1;", count: 40) + "0,0,0,1", String(repeating: "9", count: 10_000)])
    func hostile(_ value: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try Self.model()
        model.metadata[TrainedModel.testTimeAugmentationKey] = value
        let path = dir.appendingPathComponent("hostile.safetensors").path
        try model.save(to: path)
        #expect {
            try TrainedModel.load(from: path)
        } throws: { error in
            "\(error)".contains("hostile.safetensors") && "\(error)".contains("tta")
        }
    }

    @Test("The option on a model whose inputs are not images is refused")
    func notImages() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomSource(seed: 3)
        var model = TrainedModel(model: try Sequential(inputShape: [10], layers: [Dense(10, 2, rng: &rng)]), inputTransform: .unit, loss: .crossEntropy)
        model.metadata[TrainedModel.testTimeAugmentationKey] = "0,0,0,1"
        let path = dir.appendingPathComponent("flat.safetensors").path
        try model.save(to: path)
        #expect(throws: AppError.self) { try TrainedModel.load(from: path) }
    }

    @Test("Calibrating with views fits the temperature on the views' mean; one view is the plain NLL")
    func calibrationWithViews() {
        let logits: [Float] = [2, 0, 0, 1, 1, 0, 0, 3, 0, 0, 1, 2]  // two samples, two views, three classes
        let labels: [Int32] = [0, 1]
        let one = Calibration.negativeLogLikelihood(logits: Array(logits[0..<3]) + Array(logits[6..<9]), labels: labels, classes: 3, temperature: 1.5)
        let asViews = Calibration.negativeLogLikelihood(logits: Array(logits[0..<3]) + Array(logits[6..<9]), labels: labels, classes: 3, temperature: 1.5, views: 1)
        #expect(one == asViews)
        func softmax(_ z: [Float], _ t: Float) -> [Double] {
            let e = z.map { Foundation.exp(Double($0 / t)) }
            return e.map { $0 / e.reduce(0, +) }
        }
        let p0 = (softmax([2, 0, 0], 1.5)[0] + softmax([1, 1, 0], 1.5)[0]) / 2
        let p1 = (softmax([0, 3, 0], 1.5)[1] + softmax([0, 1, 2], 1.5)[1]) / 2
        let expected = -(Foundation.log(p0) + Foundation.log(p1)) / 2
        #expect(abs(Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: 3, temperature: 1.5, views: 2) - expected) < 1e-6)
    }

    // MARK: - The commands

    @Test("predict and eval say when they read with test-time augmentation; --no-tta and --tta-views override the file")
    func commands() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 200, test: 50)
        var model = try Self.model()
        model.testTimeAugmentation = TestTimeAugmentation(views: [.init(rotation: -5), .init(rotation: 5)])
        let path = dir.appendingPathComponent("tta.safetensors").path
        try model.save(to: path)
        let eval = try DigitsCommand.run(["eval", "--model", path, "--data", dir.path])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("with test-time augmentation (2 views averaged)"))
        #expect(eval.stderr.contains("Reading with test-time augmentation: 2 views"))
        let plain = try DigitsCommand.run(["eval", "--model", path, "--data", dir.path, "--no-tta"])
        #expect(plain.status == 0 && !plain.stdout.contains("test-time") && plain.stderr.isEmpty, "\(plain.stderr)")
        let validation = try DigitsCommand.run(["eval", "--model", path, "--data", dir.path, "--validation", "50", "--tta-views", "0,0,0,1;1,0,0,1;-1,0,0,1", "--json"])
        #expect(validation.status == 0, "\(validation.stderr)")
        #expect(validation.stdout.contains("\"validation_accuracy\"") && validation.stdout.contains("\"tta_views\":3"))
        let predict = try DigitsCommand.run(["predict", "--model", path, "--data", dir.path, "--index", "0"])
        #expect(predict.status == 0 && predict.stderr.contains("test-time augmentation"), "\(predict.stderr)")
        for bad in [["--tta-views", "1,2"], ["--tta-views", "0,0,0,1", "--no-tta"], ["--validation", "0"]] {
            let r = try DigitsCommand.run(["eval", "--model", path, "--data", dir.path] + bad)
            #expect(r.status != 0 && r.stdout.isEmpty && r.stderr.split(separator: "\n").count <= 3, "\(bad): \(r.stderr)")
        }
        for bad in [["--tta-views", "1,2"], ["--tta-views", "0,0,0,1", "--no-tta"]] {
            let r = try DigitsCommand.run(["serve", "--port", "0", "--data-dir", dir.appendingPathComponent("studio").path] + bad)
            #expect(r.status != 0 && r.stdout.isEmpty && r.stderr.contains("--tta-views"), "serve \(bad): \(r.stderr)")
        }
        for budget in ["-1", "101", "nan"] {
            let r = try DigitsCommand.run(["calibrate", "--model", path, "--data", dir.path, "--flag", "--flag-budget", budget])
            #expect(r.status != 0 && r.stderr.contains("--flag-budget"), "\(budget): \(r.stderr)")
        }
        // A file with a hostile option: one error line, exit status 1.
        model.metadata[TrainedModel.testTimeAugmentationKey] = "0,0,0,1;nan"
        try model.save(to: path)
        let hostile = try DigitsCommand.run(["predict", "--model", path, "--data", dir.path, "--index", "0"])
        #expect(hostile.status == 1 && hostile.stderr.hasPrefix("error: model file") && hostile.stderr.contains("tta"), "\(hostile.stderr)")
    }
}
