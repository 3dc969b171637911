import ArgumentParser
import DigitsApp
import DigitsServer
import Foundation

/// `digits finetune --extra DIR`: what the studio's "Teach" button does, from the terminal.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model on your own labelled digits (mixed with MNIST so it does not forget).",
        discussion: "PATH is an examples directory as `digits serve` keeps it (DATA-DIR/examples: an IDX pair images-idx3-ubyte and labels-idx1-ubyte of 28×28 digits, with its journal), or a CSV file of examples (a label, then 784 pixels, a line each), as the static studio of `digits web` exports them.")

    @Option(help: ArgumentHelp("Your examples: a directory of `digits serve`, or a CSV file.", valueName: "path"))
    var extra: String

    @Option(help: ArgumentHelp("The model to start from.", valueName: "path"))
    var model: String = TrainedModel.defaultPath

    @Option(help: ArgumentHelp("Where to save the fine-tuned model (default: the --model path).", valueName: "path"))
    var save: String?

    @Option(help: ArgumentHelp("Optimiser steps (batches of 32).", valueName: "n"))
    var steps: Int = FineTuning.Settings().steps

    func validate() throws {
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000") }
    }

    func run() throws {
        do throws(AppError) {
            let examples = try ExtraExamples.load(extra)
            let trained = try TrainedModel.load(from: model)
            let mnist = try DataSource.bundled.load(sampleShape: trained.model.inputShape)
            Console.out("Fine-tuning \(model) on \(examples.labels.count) examples from \(extra) mixed with MNIST, \(steps) steps")
            let result = try FineTuning.run(trained, examples: examples, mnist: mnist.train, settings: .init(steps: steps))
            let accuracy = result.model.evaluate(on: mnist.test).accuracy
            var tuned = result.model
            tuned.metadata["test_accuracy"] = String(accuracy)
            let target = save ?? model
            try tuned.save(to: target)
            Console.out("Your examples read correctly: \(result.beforeCorrect)/\(result.labels.count) before, \(result.afterCorrect)/\(result.labels.count) after (\(String(format: "%.1f", result.seconds)) s)")
            Console.out("MNIST test accuracy \(Format.percent(accuracy)). Model saved to \(target)")
            if trained.metadata[TrainedModel.flagBelowKey] != nil {
                Console.out("Its flag threshold, tuned for the model before fine-tuning, was dropped (readings are flagged below \(Format.percent(Double(Prediction.lowConfidence)))); digits calibrate --model \(target) --flag tunes one for this model.")
            }
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
