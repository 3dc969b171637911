import Foundation
import Testing

/// `--extra FILE` of `digits train` and `digits finetune`: the CSV file the static studio
/// exports (a label, then 784 pixels, a line per example) is read, and bad ones are refused.
@Suite("--extra: your own examples")
struct ExtraExamplesTests {
    /// `count` examples as the static studio's "Export as CSV" writes them.
    static func csv(_ count: Int) -> String {
        (0..<count).map { i in
            ([i % 10] + (0..<784).map { ($0 * 7 + i * 31) % 256 }).map(String.init).joined(separator: ",") + "\n"
        }.joined()
    }

    @Test("digits train --extra FILE adds the examples to the training set")
    func trainReadsTheExport() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 200, test: 50)
        try Self.csv(7).write(to: dir.appendingPathComponent("digits-examples.csv"), atomically: true, encoding: .utf8)
        let r = try DigitsCommand.run(["train", "--data", dir.path, "--extra", "digits-examples.csv", "--steps", "3",
                                       "--save", "m.safetensors", "--no-progress"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("207 training"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))
    }

    /// A bad `--extra` file's content (nil: no file at all).
    static func badContent(_ name: String) -> String? {
        switch name {
        case "short.csv": "3,1,2,3\n"
        case "label.csv": "12," + Array(repeating: "0", count: 784).joined(separator: ",") + "\n"
        default: nil
        }
    }

    @Test("digits train --extra refuses a missing file and a bad row, naming them", arguments: [
        ("nothing.csv", "no such file"), ("short.csv", "short.csv:1"), ("label.csv", "label"),
    ])
    func refusesBadExtras(name: String, message: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 50, test: 10)
        if let content = Self.badContent(name) { try content.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let r = try DigitsCommand.run(["train", "--data", dir.path, "--extra", name, "--steps", "1", "--save", "m.safetensors"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    @Test("digits finetune --extra FILE reads the export")
    func finetuneReadsTheExport() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 100, test: 20)
        try Self.csv(4).write(to: dir.appendingPathComponent("examples.csv"), atomically: true, encoding: .utf8)
        let trained = try DigitsCommand.run(["train", "--data", dir.path, "--steps", "2", "--save", "m.safetensors", "--no-progress"], in: dir)
        #expect(trained.status == 0, "\(trained.stderr)")
        let r = try DigitsCommand.run(["finetune", "--extra", "examples.csv", "--model", "m.safetensors", "--save", "tuned.safetensors",
                                       "--steps", "2"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("on 4 examples from examples.csv"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tuned.safetensors").path))
    }
}
