import ArgumentParser
import DigitsServer
import Foundation

/// `digits serve`: Digits Studio, a local web page to draw digits, see inside the network,
/// train it and teach it your handwriting.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve Digits Studio: draw a digit and watch the network read it, train it, teach it your handwriting.",
        discussion: "With no --model and no model.safetensors here, serves the shipped reader (or, in a build without it, trains the `fast` preset once into the data directory).")

    @Option(help: ArgumentHelp("The model to serve (default: model.safetensors here, else one trained into the data directory).", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("The address to listen on; anything but loopback is reachable by others.", valueName: "address"))
    var host: String = "127.0.0.1"

    @Option(name: .customLong("allow-host"), help: ArgumentHelp(
        "A host name the page may be opened by, besides IP addresses, localhost and --host (repeatable; e.g. this machine's name on the network).",
        valueName: "name"))
    var allowHost: [String] = []

    @Option(help: ArgumentHelp("The port (0 picks a free one).", valueName: "n"))
    var port: Int = 8080

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Where saved models and your examples are kept.", valueName: "dir"))
    var dataDir: String = "studio-data"

    @OptionGroup(title: "Reading (POST /api/predict, and the page: with views it reads through the server)") var reading: ReadingOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        for name in allowHost {
            if let problem = SameOrigin.problem(withName: name) { throw ValidationError("--allow-host: \(problem)") }
        }
    }

    func run() throws {
        let options = Launcher.Options(model: model, host: host, port: port, dataDirectory: dataDir, reading: reading.choice,
                                        allowedHosts: allowHost)
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await Launcher.run(options) { Console.out($0) } } catch { outcome.set("\(error)") }
            done.signal()
        }
        done.wait()
        if let failure = outcome.failure {
            Console.err("error: \(failure)\n")
            throw ExitCode.failure
        }
    }
}

/// The error a server run ended with, handed from its task to the command.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var message: String?
    func set(_ m: String) { lock.withLock { message = m } }
    var failure: String? { lock.withLock { message } }
}
