import DigitsApp
import DigitsCore
import DigitsVision
import Foundation
import Testing

/// The project's best model against realistic pictures of handwriting (strokes of varying
/// thickness, off-centre, of different sizes and small rotations, dark on light and light on
/// dark, grey, RGB and with alpha, some JPEG-compressed, on images of many sizes): prepared the
/// way MNIST was made, at least 95 % are read correctly; resized whole to 28×28, far fewer.
@Suite("Reading realistic handwriting")
struct RealisticHandwritingTests {
    /// The best model the project trains (the `cnn-best` preset; `scripts/make-test-model.sh`
    /// makes it), committed so that the tests
    /// need no training.
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/best-model.safetensors").path

    @Test("MNIST-style preparation reads ≥ 95 %; the naive resize far fewer")
    func preparedVersusNaive() throws {
        let model = try TrainedModel.load(from: Self.modelPath)
        let set = SyntheticHandwriting.makeSet(count: 300, seed: 2026)
        var kinds = Set<String>()
        var prepared: [UInt8] = [], naive: [UInt8] = [], labels: [Int32] = []
        for digit in set {
            kinds.insert(digit.fileExtension)
            prepared += try DigitPreparation.prepare(digit.image)
            naive += DigitPreparation.naiveResize(digit.image)
            labels.append(Int32(digit.label))
        }
        // Read all of them in one batch through the model (as `digits eval` does).
        func accuracy(_ pixels: [UInt8]) -> Double {
            model.evaluate(on: Dataset(sampleShape: model.model.inputShape, features: pixels, labels: labels, classes: 10)).accuracy
        }
        let preparedAccuracy = accuracy(prepared), naiveAccuracy = accuracy(naive)
        print("realistic handwriting: prepared \(preparedAccuracy), naive \(naiveAccuracy) of \(set.count)")
        #expect(kinds == ["png", "jpg"], "the set mixes lossless and JPEG-compressed pictures")
        #expect(preparedAccuracy >= 0.95)
        #expect(naiveAccuracy < 0.5)
        #expect(preparedAccuracy - naiveAccuracy > 0.45)
    }

    @Test("README's example photo reads as a 4")
    func readmePhoto() throws {
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/photo-of-a-4.jpg").standardized.path
        let r = try DigitsCommand.run(["predict", "--model", Self.modelPath, photo])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Guess: 4 with"))
    }

    @Test("digits predict reads picture files, one answer per file, and reports bad files without stopping")
    func predictFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = SyntheticHandwriting.makeSet(count: 10, seed: 7)
        var files = try set.enumerated().map { try $0.element.write(to: dir, index: $0.offset).path }
        let bad = dir.appendingPathComponent("not-an-image.png")
        try Data("hello".utf8).write(to: bad)
        files.insert(bad.path, at: 3)
        let blank = dir.appendingPathComponent("blank.png")
        try ImageIO.writePNG(Image(width: 64, height: 64, channels: 1, fill: [255]), to: blank)
        files.append(blank.path)

        let r = try DigitsCommand.run(["predict", "--model", Self.modelPath, "--json",
                                       "--save-prepared", dir.appendingPathComponent("prepared").path] + files)
        #expect(r.status == 1, "a file failed, so the exit status is 1")
        let answers = try r.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(answers.count == 10, "every good file is still answered")
        var right = 0
        for (answer, digit) in zip(answers, set) {
            #expect((answer["probabilities"] as? [Double])?.count == 10)
            if answer["digit"] as? Int == digit.label { right += 1 }
        }
        #expect(right >= 9)
        let errors = r.stderr.split(separator: "\n")
        #expect(errors.count == 2)
        #expect(errors.contains { $0.contains("not-an-image.png") })
        #expect(errors.contains { $0.contains("blank.png") })
        let saved = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("prepared").path)
        #expect(saved.count == 10)
        let one = try ImageIO.read(dir.appendingPathComponent("prepared").appendingPathComponent(saved.sorted()[0]))
        #expect(one.width == 28 && one.height == 28)
    }
}
