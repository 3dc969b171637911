import Foundation
import Testing

/// The `digits` command, run as a process: results, JSON, exit statuses, error messages.
@Suite("digits command", .serialized)
struct CLITests {
    // MARK: - Training, evaluating, predicting

    @Test("train saves a model that eval and predict read back, with exactly the reported accuracy")
    func trainEvalPredict() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 600, test: 200)
        let train = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "32", "--epochs", "2",
                                           "--batch-size", "32", "--json", "--no-progress"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let objects = try train.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        #expect(objects.count == 3)
        #expect(objects[0]["epoch"] as? Int == 1)
        for key in ["train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"] {
            #expect(objects[0][key] is Double, "missing \(key)")
        }
        let done = try #require(objects.last)
        #expect(done["done"] as? Bool == true)
        #expect(done["model"] as? String == "model.safetensors")
        let trainedAccuracy = try #require(done["test_accuracy"] as? Double)
        #expect(trainedAccuracy > 0.9, "the synthetic bars are easy to learn")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path))

        let eval = try DigitsCommand.run(["eval", "--data", dir.path, "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let e = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect(e["test_accuracy"] as? Double == trainedAccuracy)
        #expect(e["count"] as? Int == 200)

        let predict = try DigitsCommand.run(["predict", "--data", dir.path, "--index", "3", "--json"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let p = try #require(try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let probabilities = try #require(p["probabilities"] as? [Double])
        #expect(probabilities.count == 10)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        let digit = try #require(p["digit"] as? Int)
        #expect(p["confidence"] as? Double == probabilities[digit])
        #expect(probabilities.max() == probabilities[digit])

        let text = try DigitsCommand.run(["predict", "--data", dir.path, "--index", "3"], in: dir)
        #expect(text.status == 0)
        #expect(text.stdout.contains("Top three:"))
        #expect(text.lines.prefix(28).allSatisfy { $0.count == 56 }, "28 rows of text art, two characters a pixel")
    }

    @Test("the same seed gives the same weights, byte for byte")
    func reproducible() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 300, test: 100)
        var files: [Data] = []
        for (i, seed) in ["7", "7", "8"].enumerated() {
            let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "16", "--epochs", "1", "--seed", seed,
                                           "--save", "m\(i).safetensors", "--no-progress"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            files.append(try Data(contentsOf: dir.appendingPathComponent("m\(i).safetensors")))
        }
        #expect(files[0] == files[1])
        #expect(files[0] != files[2])
    }

    @Test("presets lists every tutorial with its source")
    func presets() throws {
        let r = try DigitsCommand.run(["presets"])
        #expect(r.status == 0)
        for name in ["mlp", "tutorial-sigmoid-16-16", "tutorial-sigmoid-40", "tutorial-softmax-regression",
                     "tutorial-relu-50", "tutorial-leaky-256-128"] {
            #expect(r.stdout.contains(name + "\n") || r.stdout.contains(name + " (default)"), "\(name) missing")
        }
    }

    // MARK: - Bad input: one clear line, non-zero exit

    @Test("bad data and model files give one clear line and exit status 1",
          arguments: BadInput.allCases)
    func badInput(_ bad: BadInput) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (arguments, mentions) = try bad.setUp(in: dir)
        let r = try DigitsCommand.run(arguments, in: dir)
        #expect(r.status == 1, "\(bad): status \(r.status), stderr \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(bad): \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "))
        #expect(r.stderr.contains(mentions), "\(bad): \(r.stderr) should mention \(mentions)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    enum BadInput: String, CaseIterable, CustomTestStringConvertible {
        case missingDirectory, truncatedImages, wrongMagic, countMismatch, csvShortRow, csvPixelOutOfRange,
             csvLabelOutOfRange, missingModel, truncatedModel, garbageModel, predictIndexOutOfRange

        var testDescription: String { rawValue }

        func setUp(in dir: URL) throws -> (arguments: [String], mentions: String) {
            let data = dir.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try writeSyntheticIDX(to: data, train: 50, test: 20)
            let images = data.appendingPathComponent("train-images-idx3-ubyte")
            let labels = data.appendingPathComponent("train-labels-idx1-ubyte")
            func csv(_ rows: [String]) throws -> URL {
                let url = dir.appendingPathComponent("bad.csv")
                try rows.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
                return url
            }
            let goodRow = "5," + Array(repeating: "0", count: 784).joined(separator: ",")
            switch self {
            case .missingDirectory:
                return (["train", "--data", "/no/such/dir", "--no-progress"], "/no/such/dir")
            case .truncatedImages:
                let bytes = try Data(contentsOf: images)
                try bytes.prefix(bytes.count / 2).write(to: images)
                return (["train", "--data", data.path, "--no-progress"], "train-images-idx3-ubyte")
            case .wrongMagic:
                var bytes = try Data(contentsOf: images)
                bytes[3] = 0x01   // 2049: a labels file's magic
                try bytes.write(to: images)
                return (["train", "--data", data.path, "--no-progress"], "train-images-idx3-ubyte")
            case .countMismatch:
                let bytes = try Data(contentsOf: labels)
                var shorter = bytes.prefix(bytes.count - 1)
                shorter[7] = UInt8(49)   // header says 49 labels, 49 present: 50 images
                try Data(shorter).write(to: labels)
                return (["train", "--data", data.path, "--no-progress"], "train-labels-idx1-ubyte")
            case .csvShortRow:
                let f = try csv([goodRow, "3,0,0,0"])
                return (["train", "--train-csv", f.path, "--test-csv", f.path, "--no-progress"], "bad.csv:2")
            case .csvPixelOutOfRange:
                let f = try csv([goodRow, "3," + Array(repeating: "300", count: 784).joined(separator: ",")])
                return (["train", "--train-csv", f.path, "--test-csv", f.path, "--no-progress"], "bad.csv:2")
            case .csvLabelOutOfRange:
                let f = try csv(["label," + (0..<784).map { "p\($0)" }.joined(separator: ","), goodRow,
                                 "12," + Array(repeating: "0", count: 784).joined(separator: ",")])
                return (["train", "--train-csv", f.path, "--test-csv", f.path, "--no-progress"], "bad.csv:3")
            case .missingModel:
                return (["eval", "--data", data.path, "--model", "none.safetensors"], "none.safetensors")
            case .truncatedModel, .garbageModel:
                let r = try DigitsCommand.run(["train", "--data", data.path, "--layers", "8", "--epochs", "1",
                                               "--save", "m.safetensors", "--no-progress"], in: dir)
                #expect(r.status == 0, "\(r.stderr)")
                let model = dir.appendingPathComponent("m.safetensors")
                let bytes = try Data(contentsOf: model)
                if self == .truncatedModel {
                    try bytes.prefix(bytes.count - 100).write(to: model)
                } else {
                    try Data("this is not a model at all, just some text".utf8).write(to: model)
                }
                return (["eval", "--data", data.path, "--model", model.path], "m.safetensors")
            case .predictIndexOutOfRange:
                let r = try DigitsCommand.run(["train", "--data", data.path, "--layers", "8", "--epochs", "1",
                                               "--no-progress"], in: dir)
                #expect(r.status == 0, "\(r.stderr)")
                return (["predict", "--data", data.path, "--index", "20"], "out of range")
            }
        }
    }

    @Test("invalid flag combinations are rejected before any work",
          arguments: [
            (["train", "--preset", "nope"], "no preset named"),
            (["train", "--loss", "ce", "--output", "softmax"], "raw scores"),
            (["train", "--epochs", "0"], "--epochs"),
            (["train", "--epochs", "2", "--steps", "5"], "not both"),
            (["train", "--train-csv", "a.csv"], "go together"),
            (["train", "--activation", "swish"], "activation"),
            (["train", "--lr", "nan"], "--lr"),
            (["train", "--l2", "nan"], "l2"),
            (["train", "--gamma", "nan"], "--gamma"),
            (["train", "--weight-decay", "-1"], "--weight-decay"),
          ])
    func invalidFlags(_ arguments: [String], _ mentions: String) throws {
        let r = try DigitsCommand.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
    }
}
