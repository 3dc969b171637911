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

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @Argument(help: ArgumentHelp("Images to read: a photo, a scan or a drawing of one digit each.", valueName: "file"))
    var files: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Read test image N (0-based) instead of files.", valueName: "n"))
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
        let (path, note) = modelOptions.resolved
        if let note { Console.err(note + "\n") }
        var trained: TrainedModel
        do { trained = try TrainedModel.load(from: path) } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
        reading.apply(to: &trained)
        if let note = trained.testTimeAugmentationNote { Console.err(note + "\n") }
        if let index {
            try predictTestImage(index, trained, path)
        } else {
            try predictFiles(trained, path)
        }
    }

    // MARK: - Image files

    private func predictFiles(_ trained: TrainedModel, _ path: String) throws {
        let reporter = Reporter(style: json ? .jsonLines : .text)
        do { try trained.checkReadsDigits(modelPath: path) } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
        let outputDirectory = savePrepared.map(Format.directory)
        if let outputDirectory {
            do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
                Console.err("error: cannot create the directory \(outputDirectory): \(error.localizedDescription)\n")
                throw ExitCode.failure
            }
        }
        let names = Self.preparedNames(for: files)
        var failures = 0
        for (n, file) in files.enumerated() {
            do throws(AppError) {
                let reading = try trained.reading(imageAt: URL(fileURLWithPath: file), modelPath: path)
                var saved: String?
                if let outputDirectory, let image = Image(digit28: reading.prepared) {
                    let out = outputDirectory == "/" ? "/" + names[n] : outputDirectory + "/" + names[n]
                    do { try ImageIO.writePNG(image, to: URL(fileURLWithPath: out)) } catch { throw AppError(error.description) }
                    saved = out
                }
                if !json && n > 0 { Console.out("") }
                reporter.prediction(reading.prediction, file: file, pixels: reading.prepared, warnings: reading.warnings,
                                    prepared: saved).forEach(Console.out)
            } catch {
                failures += 1
                Console.err("error: \(error.description)\n")
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    /// The name of each file's prepared digit: its whole file name (extension included, so that
    /// `a.png` and `a.jpg` differ) with `.prepared.png`, and `-2`, `-3`… when two files of the
    /// same name come from different directories.
    static func preparedNames(for files: [String]) -> [String] {
        var used = Set<String>()
        return files.map { file in
            let base = URL(fileURLWithPath: file).lastPathComponent
            var name = base + ".prepared.png", k = 2
            while used.contains(name) {
                name = "\(base)-\(k).prepared.png"
                k += 1
            }
            used.insert(name)
            return name
        }
    }

    // MARK: - A test image

    private func predictTestImage(_ index: Int, _ trained: TrainedModel, _ path: String) throws {
        do throws(AppError) {
            let test = try data.source.load(sampleShape: trained.model.inputShape).test
            try trained.check(fits: test, modelPath: path, dataName: "the test set of \(data.source.description)")
            guard index < test.count else {
                throw AppError("--index \(index) is out of range: the test set has \(Format.thousands(test.count)) images (0 to \(test.count - 1))")
            }
            let size = test.sampleSize
            let pixels = Array(test.features[(index * size)..<((index + 1) * size)])
            let label = Int(test.labels[index])
            let p = try trained.checkedPredict(pixels, modelPath: path)
            Reporter(style: json ? .jsonLines : .text).prediction(p, index: index, label: label, pixels: pixels)
                .forEach(Console.out)
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
