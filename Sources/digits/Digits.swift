import ArgumentParser
import DigitsApp
import DigitsAVX512

/// `digits`: train, evaluate and run neural networks that read handwritten digits.
@main
struct Digits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digits",
        abstract: "A neural network from scratch that learns to read handwritten digits.",
        discussion: """
            Start with `digits train`: it trains the default network on the bundled MNIST \
            and saves it to model.safetensors. Then `digits eval` and `digits predict --index 0`.
            """,
        subcommands: [Train.self, Eval.self, Predict.self, Show.self, Export.self, PresetsCommand.self, Bench.self,
                      Serve.self, Finetune.self, Web.self, Calibrate.self, Check.self],
        defaultSubcommand: nil
    )

    /// Runs the command; a mistyped subcommand (`digits trian`) gets a suggestion first.
    static func main() {
        // The AVX-512 matrix multiply where the processor has it (the same results either way).
        AVX512.install()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-") {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName ?? defaultName($0) } + ["help"]
            if !names.contains(first) {
                let suggestion = CommandSuggestion.closest(to: first, among: names).map { " Did you mean '\($0)'?" } ?? ""
                Console.err("error: '\(first)' is not a digits command.\(suggestion) Commands: \(names.dropLast().joined(separator: ", ")).\n")
                Self.exit(withError: ExitCode.failure)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // Help and --version print and exit 0; a run's own failure has printed its line already.
            if code == .success || error is ExitCode { Self.exit(withError: error) }
            // A flag that is wrong: one line, status 1 (`digits help COMMAND` shows the usage).
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            Console.err("error: \(message)\n")
            Self.exit(withError: ExitCode.failure)
        }
    }

    /// The name ArgumentParser derives from a command type with no explicit name.
    private static func defaultName(_ type: any ParsableCommand.Type) -> String {
        String(describing: type).lowercased()
    }
}
