import Foundation
import Testing

/// `digits train --checkpoint … --resume …` run as processes: killed or interrupted in the middle
/// of an epoch and resumed, training ends with the model file of a run that never stopped, byte
/// for byte.
@Suite(.serialized) struct CheckpointCommandTests {
    /// A dense network on 512 synthetic images: 6 steps an epoch, checkpoints every 5 steps.
    static let dense = ["train", "--layers", "256,256", "--epochs", "4", "--batch-size", "100", "--checkpoint-every", "5"]
    /// The dense run ending with an exponential moving average of its weights (every step's):
    /// the checkpoints carry the average.
    static let averaged = dense + ["--average", "ema:0.9"]
    /// `cnn-best` (BatchNorm, dropout, augmentation, one-cycle SGD with L2) for 8 steps of 4
    /// images, checkpoints every 2 steps.
    static let convolutional = ["train", "--preset", "cnn-best", "--steps", "8", "--report-every", "8", "--batch-size", "4",
                                "--checkpoint-every", "2"]

    /// Starts `digits ARGS…`, waits for `file` to appear, sends `signal` and waits for the end.
    static func interrupt(_ arguments: [String], in dir: URL, when file: URL, with signal: Int32) throws
        -> (process: Process, stderr: String) {
        let p = Process()
        p.executableURL = DigitsCommand.executable
        p.arguments = arguments
        p.currentDirectoryURL = dir
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let start = Date()
        while p.isRunning && !FileManager.default.fileExists(atPath: file.path) && Date().timeIntervalSince(start) < 60 {
            usleep(500)
        }
        if p.isRunning { kill(p.processIdentifier, signal) }
        let errBytes = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p, String(decoding: errBytes, as: UTF8.self))
    }

    @Test("Killed (SIGKILL), interrupted (SIGINT, 130) or stopped (SIGTERM, 143) mid-epoch, then resumed: the same model bytes",
          arguments: [("dense", SIGKILL), ("dense", SIGINT), ("dense", SIGTERM), ("convolutional", SIGKILL), ("averaged", SIGKILL)])
    func resumesByteIdentical(network: String, signal: Int32) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 512, test: 32)
        let recipe = ["dense": Self.dense, "averaged": Self.averaged][network, default: Self.convolutional]
            + ["--data", dir.path, "--no-progress"]

        // Checkpoints of its own too: writing them changes nothing.
        let whole = try DigitsCommand.run(recipe + ["--save", "whole.safetensors", "--checkpoint", "whole.ckpt"], in: dir)
        #expect(whole.status == 0, "\(whole.stderr)")

        let checkpoint = dir.appendingPathComponent("run.ckpt")
        let (p, stderr) = try Self.interrupt(recipe + ["--save", "resumed.safetensors", "--checkpoint", "run.ckpt"],
                                             in: dir, when: checkpoint, with: signal)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("resumed.safetensors").path),
                "the run finished before the signal: make it longer")
        if signal == SIGKILL {
            #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        } else {
            #expect(p.terminationReason == .exit && p.terminationStatus == 128 + signal, "\(stderr)")
            #expect(stderr.contains("checkpoint saved; continue with `digits train --resume run.ckpt`"), "\(stderr)")
        }
        // No temporary file is left beside the checkpoint.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty || signal == SIGKILL, "\(leftovers)")

        let resumed = try DigitsCommand.run(["train", "--resume", "run.ckpt", "--no-progress"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let step = resumed.stderr.components(separatedBy: "resuming run.ckpt at step ").last.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect(step != nil, "\(resumed.stderr)")
        if network != "convolutional", signal == SIGKILL, let step {
            // Checkpoints every 5 steps, 6 steps an epoch: the run resumed in the middle of one.
            #expect(step % 5 == 0 && step % 6 != 0, "resumed at step \(step)")
        }
        let a = try Data(contentsOf: dir.appendingPathComponent("whole.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("resumed.safetensors"))
        #expect(a == b, "the resumed run's model differs from the uninterrupted run's")
        // The last line's test accuracy is the same too (its seconds are not).
        func accuracy(_ r: DigitsCommand.Result) -> String? { r.lines.last?.components(separatedBy: " after ").first }
        #expect(accuracy(resumed) != nil && accuracy(resumed) == accuracy(whole))
    }

    @Test("A loss that becomes NaN stops with the step and the learning rate, status 1, keeping the last good checkpoint")
    func divergence() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 256, test: 32)
        let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "64", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3",
                                       "--batch-size", "32", "--checkpoint", "run.ckpt", "--checkpoint-every", "1",
                                       "--no-progress"], in: dir)
        #expect(r.status == 1)
        let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("error: training diverged at step ") && line.contains("(learning rate "), "\(r.stderr)")
        #expect(line.contains("the last good checkpoint, run.ckpt (step "), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path))
        // The kept checkpoint resumes (and diverges again at the same step).
        let again = try DigitsCommand.run(["train", "--resume", "run.ckpt", "--no-progress"], in: dir)
        #expect(again.status == 1)
        #expect(again.stderr.split(separator: "\n").last.map(String.init) == line, "\(again.stderr)")
    }

    @Test("--resume refuses other flags, a missing file and a file that is not a checkpoint, in one line")
    func resumeRefusals() throws {
        // (The paths are as given, relative.)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = try DigitsCommand.run(["train", "--resume", "x.ckpt", "--lr", "0.1"], in: dir)
        #expect(flags.status == 1 && flags.stderr.contains("only --json and --no-progress may be given with it"), "\(flags.stderr)")
        let missing = try DigitsCommand.run(["train", "--resume", "x.ckpt"], in: dir)
        #expect(missing.status == 1 && missing.stderr == "error: checkpoint x.ckpt: no such file\n", "\(missing.stderr)")
        try Data("not a checkpoint at all".utf8).write(to: dir.appendingPathComponent("x.ckpt"))
        let garbage = try DigitsCommand.run(["train", "--resume", "x.ckpt"], in: dir)
        #expect(garbage.status == 1 && garbage.stderr.hasPrefix("error: checkpoint x.ckpt: header length"), "\(garbage.stderr)")
        let every = try DigitsCommand.run(["train", "--checkpoint-every", "0", "--checkpoint", "c"], in: dir)
        #expect(every.status == 1 && every.stderr.contains("--checkpoint-every must be at least 1"), "\(every.stderr)")
        let directory = try DigitsCommand.run(["train", "--checkpoint", dir.path], in: dir)
        #expect(directory.status == 1 && directory.stderr.contains("names a directory"), "\(directory.stderr)")
    }
}
