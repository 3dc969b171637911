import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsVision
import Foundation

/// `digits eval`: a saved model's accuracy and loss on the test set, its confusion matrix and
/// its mistakes.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a saved model on the test images.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Measure on the last N training images (those `digits train --validation N` held out) instead of the test set: for choosing settings without touching the test set.", valueName: "n"))
    var validation: Int?

    @Option(help: ArgumentHelp("Draw the confusion matrix into this PNG (and print it as a table).", valueName: "path"))
    var confusion: String?

    @Option(help: ArgumentHelp("Write every misclassified test digit as a PNG into this directory.", valueName: "dir"))
    var misclassified: String?

    @Flag(help: "Also print the expected calibration error (15 bins) and the reliability table: how often the readings of each certainty are right.")
    var calibration = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let validation, validation < 1 { throw ValidationError("--validation must be at least 1") }
        if let confusion { try checkExtension(confusion, option: "--confusion", ["png"]) }
    }

    func run() throws {
        let (path, note) = modelOptions.resolved
        let model = (path: path, note: note)
        if let note { Console.err(note + "\n") }
        do throws(AppError) {
            var trained = try TrainedModel.load(from: model.path)
            reading.apply(to: &trained)
            let sets = try data.source.load(sampleShape: trained.model.inputShape)
            var test = sets.test, setName = "the test set of \(data.source.description)"
            if let validation {
                guard validation < sets.train.count else {
                    throw AppError("--validation \(validation) is not less than the \(sets.train.count) training images")
                }
                test = sets.train.subset((sets.train.count - validation)..<sets.train.count)
                setName = "the last \(validation) training images of \(data.source.description)"
                if !json { Console.err("Measuring on \(setName) (the validation split), not the test set.\n") }
            }
            try trained.check(fits: test, modelPath: model.path, dataName: setName)
            if let note = trained.testTimeAugmentationNote { Console.err(note + "\n") }
            let e = trained.evaluate(on: test)
            try e.checkFinite(modelPath: model.path)
            let reporter = Reporter(style: json ? .jsonLines : .text)
            Console.out(reporter.evaluation(e, modelPath: model.path, views: trained.testTimeAugmentation?.count,
                                            set: validation == nil ? "Test" : "Validation"))
            if calibration { printCalibration(trained, test) }
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

    /// The ECE line and, in text, the reliability table.
    private func printCalibration(_ trained: TrainedModel, _ test: Dataset) {
        let r = trained.calibrationReport(on: test)
        let t = trained.temperature
        if json {
            Console.out(#"{"calibration":{"temperature":\#(t),"ece":\#(r.ece),"bins":15}}"#)
            return
        }
        Console.out(String(format: "Expected calibration error: %.2f %% (15 bins, temperature %@)", r.ece * 100,
                           trained.metadata[TrainedModel.temperatureKey] ?? "1, not calibrated"))
        Console.out("  certainty      readings  mean certainty  right")
        for bin in r.bins where bin.count > 0 {
            Console.out(String(format: "  %3.0f-%3.0f %%  %10d  %12.2f %%  %6.2f %%", bin.lower * 100, bin.upper * 100, bin.count,
                               bin.meanConfidence * 100, bin.accuracy * 100))
        }
    }

    private func write(_ image: Image, to path: String) throws(AppError) {
        do { try ImageIO.writePNG(image, to: URL(fileURLWithPath: path)) } catch { throw AppError(error.description) }
    }

    /// The most mistakes drawn on the contact sheet.
    static let contactSheetLimit = 500

    /// One enlarged, labelled PNG per wrong answer (`INDEX-true-T-predicted-P.png`), and all of
    /// them (up to ``contactSheetLimit``) on one contact sheet.
    private func writeMistakes(_ e: Evaluation, _ test: Dataset, to path: String) throws(AppError) {
        let dir = Format.directory(path)
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw AppError("cannot create the directory \(dir): \(error.localizedDescription)")
        }
        var sheet: [[UInt8]] = [], sheetLabels: [String] = []
        let s = test.sampleSize
        for i in 0..<test.count where e.predictions[i] != test.labels[i] {
            let pixels = Array(test.features[(i * s)..<((i + 1) * s)])
            let (truth, guess) = (Int(test.labels[i]), Int(e.predictions[i]))
            let picture = DigitGrid.render(images: [pixels], labels: ["\(i): true \(truth), read \(guess)"], columns: 1, scale: 8)
            let name = String(format: "%05d-true-%d-predicted-%d.png", i, truth, guess)
            try write(picture, to: URL(fileURLWithPath: dir).appendingPathComponent(name).path)
            if sheet.count < Self.contactSheetLimit {
                sheet.append(pixels)
                sheetLabels.append("\(i): \(truth)>\(guess)")
            }
        }
        let written = test.count - e.predictions.indices.filter { e.predictions[$0] == test.labels[$0] }.count
        if !sheet.isEmpty {
            let title = "Misclassified: true > read" + (written > sheet.count ? " (the first \(sheet.count) of \(written))" : "")
            try write(DigitGrid.render(images: sheet, labels: sheetLabels, columns: 12, scale: 3, title: title),
                      to: URL(fileURLWithPath: dir).appendingPathComponent(Self.contactSheetName).path)
        }
        if !json {
            Console.out("Wrote the \(written) misclassified test digits to \(dir)/ (INDEX-true-T-predicted-P.png, enlarged and labelled)"
                        + (sheet.isEmpty ? "" : ", and all on one sheet, \(dir)/\(Self.contactSheetName)"))
        }
    }

    /// The contact sheet's file name in the `--misclassified` directory.
    static let contactSheetName = "contact-sheet.png"
}
