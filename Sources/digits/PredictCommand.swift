import ArgumentParser
import DigitsApp
import DigitsCore
import Foundation

/// `digits predict`: what a saved model reads in one test image.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a test image and the model's guess, with its certainty.")

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: ArgumentHelp("The test image to read, 0-based.", valueName: "n"))
    var index: Int

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if index < 0 { throw ValidationError("--index must be zero or more") }
    }

    func run() throws {
        do throws(AppError) {
            let trained = try TrainedModel.load(from: model.path)
            let test = try data.source.load(sampleShape: trained.model.inputShape).test
            guard index < test.count else {
                throw AppError("--index \(index) is out of range: the test set has \(Format.thousands(test.count)) images (0 to \(test.count - 1))")
            }
            let size = test.sampleSize
            let pixels = Array(test.features[(index * size)..<((index + 1) * size)])
            let label = Int(test.labels[index])
            let p = trained.probabilities(for: pixels)
            let ranked = p.indices.sorted { p[$0] > p[$1] }
            let digit = ranked[0]
            if json {
                Console.out(Console.json(["index": index, "label": label, "digit": digit,
                                          "confidence": p[digit], "probabilities": p]))
                return
            }
            let side = Int(Double(size).squareRoot())
            Console.out(TextArt.render(pixels, width: side * side == size ? side : test.sampleShape.last ?? size))
            Console.out("Test image \(index), labelled \(label)")
            Console.out("Guess: \(digit) with \(String(format: "%.1f", p[digit] * 100))% certainty \(digit == label ? "(right)" : "(wrong)")")
            Console.out("Top three: " + ranked.prefix(3).map { "\($0) \(String(format: "%.1f", p[$0] * 100))%" }.joined(separator: ", "))
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
