import DigitsApp
import DigitsCore
import DigitsVision
import Foundation
import Testing

/// Models that do not fit the data, damaged models, empty and odd data sets, pictures with no
/// digit in them (issue 15): each refused with one line and status 1, or flagged.
@Suite("digits against hostile inputs", .serialized)
struct HostileInputTests {
    /// Saves an untrained fully connected model with `inputs` inputs and `classes` outputs.
    static func saveModel(inputs: Int = 784, classes: Int = 10, to url: URL, damage: Bool = false) throws {
        var m = MLPRecipe(hidden: [8], activation: .relu, initializer: .he)
        m.inputs = inputs
        m.classes = classes
        let recipe = Recipe(network: .mlp(m), loss: .crossEntropy, inputTransform: .unit,
                            plan: TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: 0.1), seed: 1)
        let model = try recipe.makeModel()
        if damage {
            // Weights of 3e38: the scores overflow to infinity, the probabilities to NaN.
            for p in model.parameters { for i in 0..<p.value.count { p.value.data[i] = 3e38 } }
        }
        try TrainedModel(model: model, inputTransform: .unit, loss: .crossEntropy).save(to: url.path)
    }

    static func digitPicture(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("digit.png")
        try ImageIO.writePNG(SyntheticHandwriting.makeSet(count: 1, seed: 3, overrides: .init(allowJPEG: false))[0].image, to: url)
        return url
    }

    // MARK: - Models and data that do not meet

    @Test("a model whose outputs are not the data's classes is refused by eval, eval --confusion and predict",
          arguments: [1, 12, 1000])
    func wrongOutputCount(_ classes: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 20, test: 20)
        try Self.saveModel(classes: classes, to: dir.appendingPathComponent("m.safetensors"))
        let picture = try Self.digitPicture(in: dir)
        for arguments in [["eval"], ["eval", "--json"], ["eval", "--confusion", "c.png"], ["predict", "--index", "0"],
                          ["predict", picture.path]] {
            let r = try DigitsCommand.run(arguments + ["--data", dir.path, "--model", "m.safetensors"], in: dir)
            NewcomerTests.expectOneLineFailure(r, mentions: "\(classes) output")
            #expect(r.stdout.isEmpty, "\(arguments): \(r.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("c.png").path))
    }

    @Test("predict refuses a model whose input is not a 28×28 digit", arguments: [100, 10_000])
    func wrongInputShape(_ inputs: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.saveModel(inputs: inputs, to: dir.appendingPathComponent("m.safetensors"))
        let picture = try Self.digitPicture(in: dir)
        let r = try DigitsCommand.run(["predict", "--model", "m.safetensors", picture.path], in: dir)
        NewcomerTests.expectOneLineFailure(r, mentions: "not a 28×28 digit")
    }

    @Test("a model whose outputs are not finite is refused, not read as -nan%")
    func nonFiniteOutputs() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 20, test: 20)
        try Self.saveModel(to: dir.appendingPathComponent("m.safetensors"), damage: true)
        let picture = try Self.digitPicture(in: dir)
        for arguments in [["eval"], ["predict", "--index", "0"], ["predict", picture.path]] {
            let r = try DigitsCommand.run(arguments + ["--data", dir.path, "--model", "m.safetensors"], in: dir)
            NewcomerTests.expectOneLineFailure(r, mentions: "finite number")
            #expect(!r.stdout.contains("nan"))
        }
    }

    // MARK: - Data sets

    @Test("an empty test or training set is refused, and show on it too")
    func emptySets() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 30, test: 0)
        for (arguments, mentions) in [(["train", "--layers", "4", "--epochs", "1", "--no-progress"], "the test set has no images"),
                                      (["show", "--set", "test", "--out", "g.png"], "the test set has no images")] {
            let r = try DigitsCommand.run(arguments + ["--data", dir.path], in: dir)
            NewcomerTests.expectOneLineFailure(r, mentions: mentions)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("g.png").path))
    }

    @Test("show and export with images that are not 28×28 speak of the pictures, not of a network", arguments: [1, 100])
    func otherImageSizes(_ side: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func header(_ values: [UInt32]) -> Data {
            var d = Data()
            for v in values { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
            return d
        }
        for name in ["train", "t10k"] {
            try (header([2051, 3, UInt32(side), UInt32(side)]) + Data(count: 3 * side * side))
                .write(to: dir.appendingPathComponent("\(name)-images-idx3-ubyte"))
            try (header([2049, 3]) + Data([1, 2, 3])).write(to: dir.appendingPathComponent("\(name)-labels-idx1-ubyte"))
        }
        for arguments in [["show", "--out", "g.png"], ["export", "--range", "0..<2", "--out", "out"]] {
            let r = try DigitsCommand.run(arguments + ["--data", dir.path], in: dir)
            NewcomerTests.expectOneLineFailure(r, mentions: "\(side)×\(side) images; pictures are drawn of 28×28 digits only")
            #expect(!r.stderr.contains("network"))
        }
    }

    @Test("a CSV with CR-only line ends is read")
    func carriageReturnCSV() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = (0..<3).map { "\($0)," + Array(repeating: "7", count: 784).joined(separator: ",") }
        try (["label," + (0..<784).map { "p\($0)" }.joined(separator: ",")] + rows).joined(separator: "\r")
            .write(to: dir.appendingPathComponent("mac.csv"), atomically: true, encoding: .utf8)
        let r = try DigitsCommand.run(["show", "--train-csv", "mac.csv", "--test-csv", "mac.csv", "--out", "g.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Wrote 3 train digits"))
    }

    // MARK: - Pictures with no digit

    @Test("too little ink, and ink of no digit's shape, carry a warning")
    func inkWarnings() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var dot = Image(width: 300, height: 300, channels: 1, fill: [255])
        dot.pixels[150 * 300 + 150] = 0
        try ImageIO.writePNG(dot, to: dir.appendingPathComponent("dot.png"))
        var line = Image(width: 4000, height: 9, channels: 1, fill: [255])
        for x in 100..<3900 { line.pixels[4 * 4000 + x] = 0 }
        try ImageIO.writePNG(line, to: dir.appendingPathComponent("line.png"))
        let r = try DigitsCommand.run(["predict", "--model", RealisticHandwritingTests.modelPath, "dot.png", "line.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("warning: too little ink"))
        #expect(r.stdout.contains("is much wider than tall: no digit has that shape"), "\(r.stdout)")
        let json = try DigitsCommand.run(["predict", "--model", RealisticHandwritingTests.modelPath, "dot.png", "--json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["warnings"] as? [String])?.first?.hasPrefix("too little ink") == true)
    }
}
