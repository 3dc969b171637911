import DigitsApp
import DigitsCore
import DigitsVision
import Foundation
import Testing

/// What a newcomer stumbled on (issue 11, item 8), run as a process the way they ran it.
@Suite("digits for a newcomer", .serialized)
struct NewcomerTests {
    /// Checks the run failed with status 1 and one line on standard error mentioning `mentions`.
    static func expectOneLineFailure(_ r: DigitsCommand.Result, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "\(r.stderr) should mention \(mentions)", sourceLocation: sourceLocation)
    }

    @Test("a mistyped command gets a suggestion")
    func typo() throws {
        let r = try DigitsCommand.run(["trian"])
        Self.expectOneLineFailure(r, mentions: "Did you mean 'train'?")
    }

    @Test("negative numbers are read as numbers, and refused for what they are",
          arguments: [
            (["train", "--lr", "-1"], "--lr must be a positive number"),
            (["train", "--batch-size", "-5"], "--batch-size must be between"),
            (["train", "--epochs", "-1"], "--epochs must be between"),
            (["train", "--steps", "-3"], "--steps must be between"),
            (["train", "--steps", "10", "--report-every", "-1"], "--report-every must be between"),
            (["train", "--l2", "-1"], "--l2 must be zero or positive"),
            (["train", "--momentum", "-0.5"], "--momentum must be in"),
            (["train", "--gamma", "-1"], "--gamma must be in"),
            (["train", "--weight-decay", "-1"], "--weight-decay"),
            (["train", "--step-every", "-2"], "--step-every must be between"),
            (["train", "--validation", "-1"], "--validation must be at least 1"),
            (["train", "--seed", "-1"], "'-1' is invalid for '--seed"),
            (["train", "--layers", "-5"], "--layers"),
            (["show", "--count", "-5"], "--count must be between"),
            (["show", "--start", "-1"], "--start must be zero or more"),
            (["show", "--columns", "-2"], "--columns must be at least 1"),
            (["predict", "--index", "-1"], "--index must be zero or more"),
            (["bench", "--threads", "-1"], "--threads must be between"),
            (["bench", "--repeats", "-1"], "--repeats"),
            (["export", "--range", "-1..<3", "--out", "x"], "--range takes"),
          ])
    func negativeNumbers(_ arguments: [String], _ mentions: String) throws {
        let r = try DigitsCommand.run(arguments)
        Self.expectOneLineFailure(r, mentions: mentions)
        #expect(!r.stderr.contains("Missing value"))
    }

    @Test("layer lists with empty items, and sizes past the limits, are refused",
          arguments: [
            (["train", "--layers", "256,,128"], "empty size"),
            (["train", "--layers", ""], "empty list"),
            (["train", "--layers", "100000000"], "limit of 1048576 per layer"),
            (["train", "--layers", "4611686018427387904"], "limit of 1048576 per layer"),
            (["train", "--layers", "60000,60000"], "limit of 100000000 parameters"),
            (["train", "--epochs", "9223372036854775807"], "--epochs must be between 1 and 100000"),
            (["train", "--steps", "9223372036854775807"], "--steps must be between 1 and 1000000000"),
            (["export", "--range", "9223372036854775806...9223372036854775807", "--out", "x"], "an index that large"),
            (["export", "--range", "99999999999999999999..<3", "--out", "x"], "an index that large"),
          ])
    func sizes(_ arguments: [String], _ mentions: String) throws {
        Self.expectOneLineFailure(try DigitsCommand.run(arguments), mentions: mentions)
    }

    @Test("pictures are written only under the extension of their format",
          arguments: [
            (["train", "--plot", "curves.gif"], "--plot curves.gif: writes .png or .svg only, not .gif"),
            (["show", "--out", "s.jpg"], "--out s.jpg: writes .png only, not .jpg"),
            (["show", "--out", "grid"], "no extension"),
            (["show", "--out", "pictures/"], "names a directory"),
            (["eval", "--confusion", "c.jpeg"], "writes .png only"),
            (["train", "--save", "out/newdir/"], "names a directory"),
          ])
    func extensions(_ arguments: [String], _ mentions: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        Self.expectOneLineFailure(try DigitsCommand.run(arguments, in: dir), mentions: mentions)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "nothing written")
    }

    @Test("train --save refuses to replace a FIFO (as it would a device)")
    func saveOverFIFO() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("m.safetensors")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        Self.expectOneLineFailure(try DigitsCommand.run(["train", "--save", "m.safetensors"], in: dir), mentions: "not a regular file")
        let type = try FileManager.default.attributesOfItem(atPath: fifo.path)[.type] as? FileAttributeType
        #expect(type != nil && type != .typeRegular, "still the FIFO, not a model file")
    }

    @Test("export --out digits/ says digits/ once")
    func exportDirectory() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 20, test: 10)
        let r = try DigitsCommand.run(["export", "--data", dir.path, "--range", "0..<2", "--out", "digits/"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("to digits/ ("))
        #expect(!r.stdout.contains("//"))
    }

    @Test("JSON lines keep slashes and print seconds and Floats short")
    func jsonLines() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 200, test: 50)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
        let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "8", "--epochs", "2", "--json", "--no-progress",
                                       "--save", "models/m.safetensors"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#""model":"models/m.safetensors""#))
        #expect(!r.stdout.contains(#"\/"#))
        for line in r.lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["seconds", "train_seconds"] {
                guard let seconds = object[key] as? Double else { continue }
                #expect(seconds == (seconds * 1000).rounded() / 1000, "\(key) \(seconds) in milliseconds")
                // The text as printed has at most three decimals.
                let printed = line.components(separatedBy: "\"\(key)\":")[1].prefix { $0 != "," && $0 != "}" }
                #expect((printed.split(separator: ".").last?.count ?? 0) <= 3 || !printed.contains("."), "\(printed)")
            }
            // Losses are written as the Floats they are: at most 9 significant digits.
            for key in ["train_loss", "test_loss"] where line.contains("\"\(key)\":") {
                let printed = line.components(separatedBy: "\"\(key)\":")[1].prefix { $0 != "," && $0 != "}" }
                let digits = printed.split(separator: "e").first?.filter(\.isNumber).drop { $0 == "0" } ?? ""
                #expect(digits.count <= 9, "\(key) \(printed)")
            }
        }

        let predict = try DigitsCommand.run(["predict", "--data", dir.path, "--model", "models/m.safetensors", "--index", "0", "--json"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        // Probabilities are Floats: written with at most 9 significant digits.
        let probabilities = predict.stdout.components(separatedBy: "\"probabilities\":[")[1].prefix { $0 != "]" }
        for value in probabilities.split(separator: ",") {
            let digits = value.split(separator: "e").first?.filter(\.isNumber).drop { $0 == "0" } ?? ""
            #expect(digits.count <= 9, "\(value)")
        }
    }

    /// `--only gemm` and `--only peak` take the same path past the measurements (no data, no
    /// training, no memory figure); `peak` is the quicker to run in a test.
    @Test("bench without training reports no training memory")
    func benchWithoutTraining() throws {
        let r = try DigitsCommand.run(["bench", "--only", "peak", "--repeats", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(report["peak_resident_mb"] == nil)
        #expect((report["fma_peak"] as? Double ?? 0) > 0)
        #expect((report["epochs"] as? [Any])?.isEmpty == true)
        let table = try DigitsCommand.run(["bench", "--only", "peak", "--repeats", "1"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("FMA peak"))
        #expect(!table.stdout.contains("peak memory"))
        #expect(!table.stdout.hasSuffix("\n\n"))
    }

    @Test("presets show a network without hidden layers with no hidden activation")
    func presetsSoftmaxRegression() throws {
        let r = try DigitsCommand.run(["presets"])
        #expect(r.status == 0)
        let lines = r.lines
        let start = try #require(lines.firstIndex(of: "tutorial-softmax-regression"))
        let network = try #require(lines[start...].first { $0.contains("network") })
        #expect(network.contains("784-10, init"), "\(network)")
        #expect(!network.contains("relu"))
    }

    @Test("predict --save-prepared keeps a.png and a.jpg apart and says where it wrote")
    func savePrepared() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let digits = SyntheticHandwriting.makeSet(count: 2, seed: 11, overrides: .init(allowJPEG: false))
        try ImageIO.writePNG(digits[0].image, to: dir.appendingPathComponent("a.png"))
        try ImageIO.writeJPEG(digits[1].image, to: dir.appendingPathComponent("a.jpg"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("other"), withIntermediateDirectories: true)
        try ImageIO.writePNG(digits[1].image, to: dir.appendingPathComponent("other/a.png"))
        let r = try DigitsCommand.run(["predict", "--model", RealisticHandwritingTests.modelPath, "a.png", "a.jpg", "other/a.png",
                                       "--save-prepared", "prepared/"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("prepared").path).sorted()
        #expect(names == ["a.jpg.prepared.png", "a.png-2.prepared.png", "a.png.prepared.png"])
        for name in names {
            #expect(r.stdout.contains("Prepared digit saved to prepared/\(name)"))
            #expect(try ImageIO.read(dir.appendingPathComponent("prepared/\(name)")).width == 28)
        }
    }
}
