import ArgumentParser
import DigitsApp
import DigitsCore
import Foundation

/// `digits check`: a model's accuracy on the realistic check sets (photographed pen and pencil,
/// form fields, marker, slanted writing, writing styles, fonts) and how often it flags things
/// that are not digits.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the realistic check sets (photos, form fields, marker, slant, styles, fonts, non-digits) and print accuracy per set.",
        discussion: """
            The handwriting sets are drawn from MNIST's test digits (never trained on) and \
            SyntheticHandwriting, each picture read through the same preparation as `digits predict`. \
            "Flagged" counts readings with a warning (low certainty, too little ink, no digit's shape) \
            or refused outright; for the non-digit set, flagged is what should happen.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Pictures per generated set.", valueName: "n"))
    var count: Int = 500

    @Option(parsing: .unconditional, help: ArgumentHelp("The seed the sets are drawn with.", valueName: "s"))
    var seed: UInt64 = 2026

    @Option(name: .customLong("save-pictures"), help: ArgumentHelp("Also write every picture of the sets into this directory, to look at.", valueName: "dir"))
    var savePictures: String?

    @Flag(help: "Print one JSON object per set instead of a table.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be from 1 to 100000") }
    }

    func run() throws {
        let (path, note) = modelOptions.resolved
        if let note { Console.err(note + "\n") }
        do throws(AppError) {
            var model = try TrainedModel.load(from: path)
            reading.apply(to: &model)
            try model.checkReadsDigits(modelPath: path)
            if let note = model.testTimeAugmentationNote { Console.err(note + "\n") }
            let test = try DataSource.bundled.load(sampleShape: [784]).test
            if !json {
                Console.out("Realistic checks of \(path) (seed \(seed), flag below \(String(format: "%.0f", model.flagBelow * 100)) % certainty"
                            + (model.testTimeAugmentation.map { ", test-time augmentation: \($0.count) views" } ?? "") + ")")
                Console.out("  set            pictures   read right   flagged   mean certainty")
            }
            var digitsSeen = 0, digitsFlagged = 0
            for kind in RealisticChecks.Kind.allCases {
                let samples = try RealisticChecks.makeSet(kind, count: count, seed: seed, mnistTest: test)
                let r = try RealisticChecks.evaluate(model, kind: kind, samples: samples, modelPath: path)
                if let savePictures {
                    let dir = URL(fileURLWithPath: savePictures)
                    do {
                        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                        for s in samples {
                            let ext = s.bytes.first == 0xFF ? "jpg" : "png"
                            let name = s.name.hasSuffix(".jpg") || s.name.hasSuffix(".png") ? s.name : s.name + "." + ext
                            try Data(s.bytes).write(to: dir.appendingPathComponent(name))
                        }
                    } catch { throw AppError("cannot write the pictures to \(savePictures): \(error.localizedDescription)") }
                }
                if kind != .nonDigits { digitsSeen += r.count; digitsFlagged += r.flagged }
                if json {
                    Console.out(#"{"set":"\#(kind.rawValue)","pictures":\#(r.count),"accuracy":\#(kind == .nonDigits ? "null" : "\(r.accuracy)"),"flagged":\#(r.flaggedFraction),"mean_certainty":\#(r.meanConfidence)}"#)
                } else {
                    let accuracy = kind == .nonDigits ? "      -" : String(format: "%8.2f %%", r.accuracy * 100)
                    let name = kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
                    Console.out("  \(name)" + String(format: "  %8d   %@   %6.1f %%   %8.1f %%", r.count, accuracy,
                                                        r.flaggedFraction * 100, r.meanConfidence * 100))
                }
            }
            if !json {
                Console.out(String(format: "Real digits flagged: %.1f %% of %d", Double(digitsFlagged) / Double(max(digitsSeen, 1)) * 100, digitsSeen))
            }
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
