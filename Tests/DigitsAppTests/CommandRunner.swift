import Foundation

/// Runs the built `digits` executable, as a person would from a shell.
enum DigitsCommand {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The executable, built beside the test bundle.
    static var executable: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // The test runner may live inside a bundle directory (…/DigitsPackageTests.xctest/Contents/MacOS).
        for _ in 0..<4 where !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("digits").path) {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("digits")
    }

    /// Runs `digits ARGS…` in `directory` and waits for it.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read the pipes before waiting, so the child cannot block on a full pipe (stderr
        // carries at most a few lines here).
        let outBytes = out.fileHandleForReading.readDataToEndOfFile()
        let errBytes = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outBytes, as: UTF8.self),
                      stderr: String(decoding: errBytes, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("digits-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Writes a small MNIST-style IDX data set: `train` and `test` images of 28×28 taken from
/// simple synthetic digit-like patterns (each class a different bar), so a network can learn it.
func writeSyntheticIDX(to dir: URL, train: Int, test: Int, seed: UInt64 = 1) throws {
    var state = seed
    func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
    func images(_ n: Int) -> (pixels: [UInt8], labels: [UInt8]) {
        var pixels = [UInt8](repeating: 0, count: n * 784), labels = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let label = Int(next() % 10)
            labels[i] = UInt8(label)
            // Class k: a bright horizontal bar at row 2 + 2k, with noise.
            for c in 4..<24 { pixels[i * 784 + (2 + 2 * label) * 28 + c] = UInt8(200 + next() % 56) }
            for _ in 0..<20 { pixels[i * 784 + Int(next() % 784)] = UInt8(next() % 100) }
        }
        return (pixels, labels)
    }
    func header(_ values: [UInt32]) -> Data {
        var d = Data()
        for v in values { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
        return d
    }
    for (name, n) in [("train", train), ("t10k", test)] {
        let (pixels, labels) = images(n)
        try (header([2051, UInt32(n), 28, 28]) + Data(pixels)).write(to: dir.appendingPathComponent("\(name)-images-idx3-ubyte"))
        try (header([2049, UInt32(n)]) + Data(labels)).write(to: dir.appendingPathComponent("\(name)-labels-idx1-ubyte"))
    }
}
