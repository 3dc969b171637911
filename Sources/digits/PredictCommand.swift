import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsVision
import Foundation

/// `digits predict`: what a saved model reads in image files, or in one test image.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read digits from image files (PNG, JPEG) or show a test image, with the model's guess and certainty.",
        discussion: """
            Each file is prepared the way MNIST's digits were: made grey, ink made bright on dark, \
            cropped to the ink, scaled into 20×20 and centred by its centre of mass in 28×28.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions

    @Argument(help: ArgumentHelp("Images to read: a photo, a scan or a drawing of one digit each.", valueName: "file"))
    var files: [String] = []

    @Option(help: ArgumentHelp("Read test image N (0-based) instead of files.", valueName: "n"))
    var index: Int?

    @Option(name: .customLong("save-prepared"), help: ArgumentHelp("Write each prepared 28×28 digit as a PNG into this directory.", valueName: "dir"))
    var savePrepared: String?

    @Flag(help: "Print one JSON object per image instead of text.")
    var json = false

    func validate() throws {
        if let index, index < 0 { throw ValidationError("--index must be zero or more") }
        if index != nil && !files.isEmpty { throw ValidationError("give image files or --index, not both") }
        if index == nil && files.isEmpty { throw ValidationError("give one or more image files, or --index N for a test image") }
        if savePrepared != nil && files.isEmpty { throw ValidationError("--save-prepared goes with image files") }
    }

    func run() throws {
        let trained: TrainedModel
        do { trained = try TrainedModel.load(from: model.path) } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
        if let index {
            try predictTestImage(index, trained)
        } else {
            try predictFiles(trained)
        }
    }

    // MARK: - Image files

    private func predictFiles(_ trained: TrainedModel) throws {
        if let savePrepared {
            do { try FileManager.default.createDirectory(atPath: savePrepared, withIntermediateDirectories: true) } catch {
                Console.err("error: cannot create \(savePrepared): \(error.localizedDescription)\n")
                throw ExitCode.failure
            }
        }
        var failures = 0
        for (n, file) in files.enumerated() {
            do {
                let (prepared, p) = try trained.read(imageAt: URL(fileURLWithPath: file))
                if let savePrepared, let image = Image(digit28: prepared) {
                    let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent + "-prepared.png"
                    try ImageIO.writePNG(image, to: URL(fileURLWithPath: savePrepared).appendingPathComponent(name))
                }
                if json {
                    Console.out(Console.json(["file": file, "digit": p.digit, "confidence": p.confidence,
                                              "probabilities": p.probabilities]))
                } else {
                    if n > 0 { Console.out("") }
                    Console.out(file)
                    Console.out(TextArt.render(prepared, width: 28))
                    Console.out("Guess: \(p.digit) with \(String(format: "%.1f", p.confidence * 100))% certainty")
                    Console.out("Top three: \(p.topThree)")
                    if p.isUncertain {
                        Console.out("warning: low certainty: the image may not hold a single clear digit")
                    }
                }
            } catch {
                failures += 1
                Console.err("error: \(error.description)\n")
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    // MARK: - A test image

    private func predictTestImage(_ index: Int, _ trained: TrainedModel) throws {
        do throws(AppError) {
            let test = try data.source.load(sampleShape: trained.model.inputShape).test
            guard index < test.count else {
                throw AppError("--index \(index) is out of range: the test set has \(Format.thousands(test.count)) images (0 to \(test.count - 1))")
            }
            let size = test.sampleSize
            let pixels = Array(test.features[(index * size)..<((index + 1) * size)])
            let label = Int(test.labels[index])
            let p = trained.predict(pixels)
            if json {
                Console.out(Console.json(["index": index, "label": label, "digit": p.digit,
                                          "confidence": p.confidence, "probabilities": p.probabilities]))
                return
            }
            Console.out(TextArt.render(pixels))
            Console.out("Test image \(index), labelled \(label)")
            Console.out("Guess: \(p.digit) with \(String(format: "%.1f", p.confidence * 100))% certainty \(p.digit == label ? "(right)" : "(wrong)")")
            Console.out("Top three: \(p.topThree)")
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
