import DigitsApp
import DigitsCore
import DigitsData
import DigitsVision
import Foundation
import Testing

/// The shipped reader (issue 14): calibration, the model file's temperature, the fallback to the
/// shipped file, and the shipped file itself.
@Suite("The reader")
struct ReaderTests {
    // MARK: - Calibration

    @Test("Fitting the temperature of over-confident scores finds the factor they were scaled by and lowers the NLL")
    func temperatureFit() {
        // Labels drawn from softmax(z); the model reports 3·z, three times too sure.
        var rng = RandomSource(seed: 4)
        var logits: [Float] = [], labels: [Int32] = []
        for _ in 0..<4000 {
            let z = (0..<10).map { _ in rng.normal() * 1.5 }
            let p = Calibration.probabilities(logits: z, count: 10, temperature: 1)
            var u = rng.nextUnit(), label = 9
            for j in 0..<10 { u -= p[j]; if u < 0 { label = j; break } }
            labels.append(Int32(label))
            logits += z.map { 3 * $0 }
        }
        let t = Calibration.fitTemperature(logits: logits, labels: labels, classes: 10)
        let before = Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: 10, temperature: 1)
        let after = Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: 10, temperature: t)
        #expect(abs(t - 3) < 0.25, "fitted \(t)")
        #expect(after < before - 0.1)
        #expect(after <= Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: 10, temperature: t * 1.1))
        #expect(after <= Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: 10, temperature: t / 1.1))
    }

    @Test("ECE of a hand-made case: Σ n_b/N · |accuracy_b − confidence_b|")
    func expectedCalibrationError() {
        // Bin (0.8, 0.9]: four readings at 0.9, three right → |0.75 − 0.9| · 4/6 = 0.1.
        // Bin (0.5, 0.6]: two at 0.6, one right → |0.5 − 0.6| · 2/6 = 1/30.
        let ece = Calibration.expectedCalibrationError(confidences: [0.9, 0.9, 0.9, 0.9, 0.6, 0.6],
                                                       correct: [true, true, true, false, true, false], bins: 10)
        #expect(abs(ece - (0.1 + 1.0 / 30)) < 1e-6)
        #expect(Calibration.expectedCalibrationError(confidences: [1, 1], correct: [true, true], bins: 15) == 0)
        #expect(Calibration.expectedCalibrationError(confidences: [], correct: [], bins: 15) == 0)
        let bins = Calibration.reliability(confidences: [0.05, 0.95, 1.0], correct: [false, true, true], bins: 10)
        #expect(bins[0].count == 1 && bins[9].count == 2 && bins[9].accuracy == 1)
    }

    // MARK: - The model file

    static func tinyModel() throws -> TrainedModel {
        var rng = RandomSource(seed: 3)
        let model = try Sequential(inputShape: [784], layers: [Dense(784, 10, rng: &rng)])
        return TrainedModel(model: model, inputTransform: .unit, loss: .crossEntropy)
    }

    @Test("The temperature is saved in the model file and applied when reading; files without one read as before")
    func temperatureRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try Self.tinyModel()
        let sample = (0..<784).map { UInt8($0 % 251) }
        let plain = model.predict(sample).probabilities
        let oldPath = dir.appendingPathComponent("old.safetensors").path
        try model.save(to: oldPath)
        let old = try TrainedModel.load(from: oldPath)
        #expect(old.temperature == 1 && old.metadata["temperature"] == nil)
        #expect(old.predict(sample).probabilities == plain)

        model.temperature = 2.5
        let path = dir.appendingPathComponent("calibrated.safetensors").path
        try model.save(to: path)
        let loaded = try TrainedModel.load(from: path)
        #expect(loaded.temperature == 2.5)
        let p = loaded.predict(sample).probabilities
        #expect(p != plain)
        #expect(p.max()! < plain.max()!, "a temperature above 1 softens the reading")
        #expect(p.indices.max { p[$0] < p[$1] } == plain.indices.max { plain[$0] < plain[$1] }, "and never changes the digit")
        #expect(abs(p.reduce(0, +) - 1) < 1e-5)
    }

    @Test("A temperature that is not a positive number is refused on load, naming the file", arguments: ["abc", "-1", "0", "nan", "1e9"])
    func badTemperature(_ value: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try Self.tinyModel()
        model.metadata["temperature"] = value
        let path = dir.appendingPathComponent("bad.safetensors").path
        try model.save(to: path)
        #expect {
            try TrainedModel.load(from: path)
        } throws: { error in
            "\(error)".contains("bad.safetensors") && "\(error)".contains("temperature")
        }
    }

    // MARK: - The shipped reader

    @Test("The shipped reader is found, calibrated, under 5 MB, and reads the first 100 test digits (at most 1 wrong)")
    func shipped() throws {
        let path = try #require(ShippedReader.path)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size <= 5_000_000)
        let model = try TrainedModel.load(from: path)
        #expect(model.temperature != 1, "the shipped reader carries its fitted temperature")
        let test = try MNIST.loadBundled().test
        var right = 0
        for i in 0..<100 {
            let p = model.predict(Array(test.pixels[(i * 784)..<((i + 1) * 784)]))
            if p.digit == Int(test.labels[i]) { right += 1 }
        }
        #expect(right >= 99)
    }

    @Test("digits predict with no --model and no model.safetensors reads with the shipped reader and says so in one line")
    func fallback() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let test = try MNIST.loadBundled().test
        let file = dir.appendingPathComponent("seven.png")
        let seven = try #require((0..<100).first { test.labels[$0] == 7 })
        try ImageIO.writePNG(try #require(Image(digit28: Array(test.pixels[(seven * 784)..<((seven + 1) * 784)]))), to: file)
        let r = try DigitsCommand.run(["predict", file.path], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Guess: 7 with"))
        let notes = r.stderr.split(separator: "\n")
        #expect(notes.count == 1 && notes[0].contains("shipped reader"), "\(r.stderr)")
        // With --model, no note.
        let given = try DigitsCommand.run(["predict", "--model", try #require(ShippedReader.path), file.path], in: dir)
        #expect(given.status == 0 && given.stderr.isEmpty)
    }
}
