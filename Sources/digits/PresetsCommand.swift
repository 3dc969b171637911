import ArgumentParser
import DigitsApp

/// `digits presets`: every preset with its hyper-parameters and quirks.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presets", abstract: "List the training presets and their settings.")

    func run() {
        for preset in Presets.all {
            Reporter.describe(preset).forEach(Console.out)
            Console.out("")
        }
    }
}
