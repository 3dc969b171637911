import ArgumentParser
import DigitsApp
import DigitsCore
import Foundation

/// `digits eval`: a saved model's accuracy and loss on the test set.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a saved model on the test images.")

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        do {
            let trained = try TrainedModel.load(from: model.path)
            let test = try data.source.load(sampleShape: trained.model.inputShape).test
            let e = trained.evaluate(on: test)
            if json {
                Console.out(Console.json(["test_accuracy": e.accuracy, "test_loss": e.loss, "count": e.count]))
            } else {
                let correct = Int((e.accuracy * Double(e.count)).rounded())
                Console.out("Test accuracy \(Format.percent(e.accuracy)) (\(Format.thousands(correct)) of \(Format.thousands(e.count)) images), loss \(String(format: "%.4f", e.loss)), model \(model.path)")
            }
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
