import DigitsApp
import DigitsCore
@testable import DigitsServer
import DigitsVision
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

/// What the route tests share: MNIST (loaded once), models, a fresh data directory per test.
enum Support {
    static let mnist: (train: Dataset, test: Dataset) = {
        do { return try StudioState.loadMNIST() } catch { fatalError("the bundled MNIST must load: \(error)") }
    }()

    /// The project's best model, committed as a fixture of the app tests.
    static let bestModelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../DigitsAppTests/Fixtures/best-model.safetensors").standardized.path

    /// Runs blocking work (a socket's `recv`) on a thread of its own, not on the task pool that the
    /// server's handlers need: with two CPUs, two tests blocking the pool would starve the server.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// A fresh data directory.
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("digits-studio-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small untrained network (784-16-10), saved into `directory`: quick to evaluate.
    static func smallModel(in directory: URL) throws -> String {
        var recipe = Presets.mlp.recipe
        if case .mlp(var m) = recipe.network { m.hidden = [16]; recipe.network = .mlp(m) }
        let model = TrainedModel(model: try recipe.makeModel(), inputTransform: .unit, loss: .crossEntropy,
                                 metadata: ["preset": "small"])
        let path = directory.appendingPathComponent("small.safetensors").path
        try model.save(to: path)
        return path
    }

    /// A state serving the best model (`best: true`) or a small one.
    static func state(best: Bool = false) throws -> StudioState {
        let directory = temporaryDirectory()
        let path = best ? bestModelPath : try smallModel(in: directory)
        return try StudioState(dataDirectory: directory.appendingPathComponent("data"), model: TrainedModel.load(from: path),
                               modelPath: path, mnist: mnist)
    }

    /// An application over `state` for the router test framework.
    static func app(_ state: StudioState) -> some ApplicationProtocol {
        Studio.application(state: state, host: "127.0.0.1", port: 0)
    }

    /// A hand-drawn-looking 7 on white, 200×200, as PNG bytes: a thick top bar and a slanted stem.
    static func sevenPNG() throws -> [UInt8] {
        var image = Image(width: 200, height: 200, channels: 1, fill: [255])
        func dot(_ x: Double, _ y: Double) {
            for dy in -9...9 { for dx in -9...9 where dx * dx + dy * dy <= 81 {
                let px = Int(x) + dx, py = Int(y) + dy
                if px >= 0, px < 200, py >= 0, py < 200 { image.pixels[py * 200 + px] = 20 }
            } }
        }
        for t in stride(from: 0.0, through: 1.0, by: 0.01) {
            dot(50 + 100 * t, 40)                 // the bar
            dot(150 - 60 * t, 40 + 125 * t)       // the stem
        }
        return try ImageIO.pngData(image)
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]
}
