import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsVision
import Foundation

/// `digits eval`: a saved model's accuracy and loss on the test set, its confusion matrix and
/// its mistakes.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a saved model on the test images.")

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: ArgumentHelp("Draw the confusion matrix into this PNG (and print it as a table).", valueName: "path"))
    var confusion: String?

    @Option(help: ArgumentHelp("Write every misclassified test digit as a PNG into this directory.", valueName: "dir"))
    var misclassified: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        do throws(AppError) {
            let trained = try TrainedModel.load(from: model.path)
            let test = try data.source.load(sampleShape: trained.model.inputShape).test
            let e = trained.evaluate(on: test)
            if json {
                Console.out(Console.json(["test_accuracy": e.accuracy, "test_loss": e.loss, "count": e.count]))
            } else {
                let correct = Int((e.accuracy * Double(e.count)).rounded())
                Console.out("Test accuracy \(Format.percent(e.accuracy)) (\(Format.thousands(correct)) of \(Format.thousands(e.count)) images), loss \(String(format: "%.4f", e.loss)), model \(model.path)")
            }
            if let confusion {
                let matrix = e.confusionMatrix(labels: test.labels, classes: test.classes)
                try write(ConfusionMatrixPicture.render(matrix, title: "Confusion matrix"), to: confusion)
                if !json {
                    Console.out("")
                    Console.out(ConfusionMatrixPicture.table(matrix))
                    Console.out("Confusion matrix drawn to \(confusion)")
                }
            }
            if let misclassified { try writeMistakes(e, test, to: misclassified) }
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }

    private func write(_ image: Image, to path: String) throws(AppError) {
        do { try ImageIO.writePNG(image, to: URL(fileURLWithPath: path)) } catch { throw AppError(error.description) }
    }

    /// One PNG per wrong answer: `INDEX-true-T-predicted-P.png`.
    private func writeMistakes(_ e: Evaluation, _ test: Dataset, to dir: String) throws(AppError) {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw AppError("cannot create \(dir): \(error.localizedDescription)")
        }
        var written = 0
        let s = test.sampleSize
        for i in 0..<test.count where e.predictions[i] != test.labels[i] {
            guard let image = Image(digit28: Array(test.features[(i * s)..<((i + 1) * s)])) else { continue }
            let name = String(format: "%05d-true-%d-predicted-%d.png", i, Int(test.labels[i]), Int(e.predictions[i]))
            try write(image, to: URL(fileURLWithPath: dir).appendingPathComponent(name).path)
            written += 1
        }
        if !json { Console.out("Wrote the \(written) misclassified test digits to \(dir)/ (INDEX-true-T-predicted-P.png)") }
    }
}
