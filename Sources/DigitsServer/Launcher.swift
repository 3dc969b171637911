import DigitsApp
import DigitsCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// What `digits serve` does: find or train a model, then serve the studio until Ctrl-C.
public enum Launcher {
    public struct Options: Sendable {
        public var model: String?
        public var host: String
        public var port: Int
        public var dataDirectory: String
        /// How `POST /api/predict` reads with every model in use (`--tta`, `--no-tta`, `--tta-views`).
        public var reading: ReadingChoice
        /// Host names the server answers to besides IP addresses, `localhost` and `host` (`--allow-host`).
        public var allowedHosts: [String]
        public init(model: String?, host: String, port: Int, dataDirectory: String, reading: ReadingChoice = ReadingChoice(),
                    allowedHosts: [String] = []) {
            self.model = model
            self.host = host
            self.allowedHosts = allowedHosts
            self.port = port
            self.dataDirectory = dataDirectory
            self.reading = reading
        }
    }

    /// Whether `host` is a loopback address (the only kind served without a warning).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The model to serve: `--model`, else `model.safetensors` here, else the shipped reader,
    /// else the `fast` model trained once into the data directory (trained now if it is not there yet).
    public static func findModel(_ options: Options, mnist: (train: Dataset, test: Dataset),
                                 say: (String) -> Void) throws(AppError) -> (TrainedModel, String) {
        if let path = options.model { return (try TrainedModel.load(from: path), path) }
        if FileManager.default.fileExists(atPath: TrainedModel.defaultPath) {
            say("Using \(TrainedModel.defaultPath) from the working directory.")
            return (try TrainedModel.load(from: TrainedModel.defaultPath), TrainedModel.defaultPath)
        }
        if let shipped = ShippedReader.path {
            say("No model given and no \(TrainedModel.defaultPath) here: using the shipped reader (\(shipped)).")
            return (try TrainedModel.load(from: shipped), shipped)
        }
        let models = URL(fileURLWithPath: options.dataDirectory).appendingPathComponent("models")
        let path = models.appendingPathComponent("fast.safetensors").path
        if FileManager.default.fileExists(atPath: path) {
            say("No model given and no \(TrainedModel.defaultPath) here: using \(path), trained earlier.")
            return (try TrainedModel.load(from: path), path)
        }
        say("No model given and no \(TrainedModel.defaultPath) here: training the `fast` preset once (about 10 s), saved to \(path).")
        do { try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true) } catch {
            throw AppError("cannot create \(models.path): \(error.localizedDescription)")
        }
        guard let preset = Presets.named("fast") else { throw AppError("the fast preset is missing") }
        var train = mnist.train, test = mnist.test
        train.sampleShape = preset.recipe.inputShape
        test.sampleShape = preset.recipe.inputShape
        let terminal = isatty(STDERR_FILENO) != 0
        let outcome = try TrainingRun.run(recipe: preset.recipe, name: "fast", train: train, test: test, stop: StopFlag()) { event in
            switch event {
            case let .progress(epoch, epochs, step, steps, rate):
                guard terminal else { return }
                let width = 30, filled = width * step / max(steps, 1)
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                FileHandle.standardError.write(Data("\r  epoch \(epoch)/\(epochs) \(bar) \(step)/\(steps) \(Int(rate)) samples/s ".utf8))
            case let .report(r, epochs):
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                say(String(format: "  epoch %d/%d  train loss %.4f  test accuracy %.2f %%  %.1f s", r.epoch, epochs,
                           r.trainLoss, (r.testAccuracy ?? 0) * 100, r.seconds))
            }
        }
        guard case .finished(let model, _) = outcome else { throw AppError("training stopped") }
        try model.save(to: path)
        return (model, path)
    }

    /// Serves until SIGINT or SIGTERM.
    public static func run(_ options: Options, say: @escaping @Sendable (String) -> Void) async throws {
        guard (0...65535).contains(options.port) else { throw AppError("--port must be 0-65535, got \(options.port)") }
        let mnist = try StudioState.loadMNIST()
        let (model, path) = try findModel(options, mnist: mnist, say: say)
        let state = try StudioState(dataDirectory: URL(fileURLWithPath: options.dataDirectory), model: model,
                                    modelPath: path, mnist: mnist, reading: options.reading)
        var reads = model
        options.reading.apply(to: &reads)
        if let tta = reads.testTimeAugmentation {
            say("POST /api/predict reads with test-time augmentation: \(tta.summary), probabilities averaged (--no-tta reads the image alone); the page reads through the server too.")
        }
        if !isLoopback(options.host) {
            say("warning: serving on \(options.host), not loopback: anyone who can reach this machine can use the studio and train on it")
        }
        let app = Studio.application(state: state, host: options.host, port: options.port,
                                           allowedHosts: options.allowedHosts, say: say) { port in
            // A wildcard address is not one a browser can open: show loopback's.
            let host = ["0.0.0.0", "::", ""].contains(options.host) ? "127.0.0.1"
                : options.host.contains(":") ? "[\(options.host)]" : options.host
            say("Digits Studio is at http://\(host):\(port)/  (model \(state.modelName), data in \(options.dataDirectory); Ctrl-C stops it)")
        }
        var logger = Logger(label: "digits-studio")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: KeepAlive(hub: state.events))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        say("Stopped.")
    }
}

/// Sends a keep-alive comment to the training-event listeners every 15 s, and ends their
/// streams when the server shuts down (so that shutting down does not wait for them).
struct KeepAlive: Service {
    let hub: EventHub

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(15))
                    hub.ping()
                }
            }
        } onGracefulShutdown: {
            hub.finishAll()
        }
    }
}
