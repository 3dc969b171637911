import ArgumentParser
import DigitsApp
import DigitsCore

// MARK: - Shared option groups

/// Where the images come from (train, eval and predict share these).
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("A directory of IDX files (MNIST, Fashion-MNIST, EMNIST digits; .gz or raw) instead of the bundled MNIST.", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("train-csv"), help: ArgumentHelp("Kaggle-style CSV of training images (label, then 784 pixels).", valueName: "file"))
    var trainCSV: String?

    @Option(name: .customLong("test-csv"), help: ArgumentHelp("Kaggle-style CSV of test images.", valueName: "file"))
    var testCSV: String?

    func validate() throws {
        if directory != nil && (trainCSV != nil || testCSV != nil) {
            throw ValidationError("use either --data DIR or --train-csv/--test-csv, not both")
        }
        if (trainCSV == nil) != (testCSV == nil) {
            throw ValidationError("--train-csv and --test-csv go together: give both")
        }
    }

    var source: DataSource {
        if let directory { return .directory(directory) }
        if let trainCSV, let testCSV { return .csv(train: trainCSV, test: testCSV) }
        return .bundled
    }
}

/// The model file to read.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp("The model file to read (default: model.safetensors here, else the shipped reader).", valueName: "path"))
    var given: String?

    /// `--model`, else `model.safetensors` here, else the shipped reader (`note` says so).
    var resolved: (path: String, note: String?) { ShippedReader.resolve(given: given) }
}

// MARK: - Argument values

/// `--activation sigmoid | tanh | relu | leaky-relu[:ALPHA]` (parsed by the library).
struct ActivationArgument: ExpressibleByArgument {
    var value: Activation
    init?(argument: String) {
        guard let value = RecipeOverrides.parseActivation(argument) else { return nil }
        self.value = value
    }
    static var allValueStrings: [String] { ["sigmoid", "tanh", "relu", "leaky-relu[:alpha]"] }
}

/// `--init he | xavier | lecun-uniform | uniform:LOW:HIGH | normal:STD | zeros` (parsed by the library).
struct InitializerArgument: ExpressibleByArgument {
    var value: Initializer
    init?(argument: String) {
        guard let value = RecipeOverrides.parseInitializer(argument) else { return nil }
        self.value = value
    }
    static var allValueStrings: [String] { ["he", "xavier", "lecun-uniform", "uniform:low:high", "normal:std", "zeros"] }
}

extension RecipeOverrides.OptimizerChoice: ExpressibleByArgument {}
extension RecipeOverrides.ScheduleChoice: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension OutputKind: ExpressibleByArgument {}
extension Batching: ExpressibleByArgument {}
extension Reduction: ExpressibleByArgument {}

// MARK: - Output paths

/// Refuses an output path whose extension is not one of `extensions` (lowercase, without the
/// dot), so that `--out grid.jpg` does not silently hold PNG bytes.
func checkExtension(_ path: String, option: String, _ extensions: [String]) throws {
    if path.hasSuffix("/") { throw ValidationError("\(option) \(path): names a directory; give a file name ending in .\(extensions[0])") }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    let ext = parts.count > 1 ? (parts.last.map { $0.lowercased() } ?? "") : ""
    guard extensions.contains(ext) else {
        let allowed = extensions.map { "." + $0 }.joined(separator: " or ")
        throw ValidationError("\(option) \(path): writes \(allowed) only\(ext.isEmpty ? " (the name has no extension)" : ", not .\(ext)")")
    }
}

// MARK: - Test-time augmentation

/// `--tta`, `--no-tta` and `--tta-views`: how a command reads each image (predict, eval, check, calibrate, serve).
struct ReadingOptions: ParsableArguments {
    @Flag(name: .customLong("tta"), inversion: .prefixedNo,
          help: "Read each image in several views and average the probabilities (test-time augmentation): the model file's views, else the standard ones. Default: as the model file says.")
    var tta: Bool?

    @Option(name: .customLong("tta-views"), help: ArgumentHelp("Read in these views instead: `shiftX,shiftY,rotation,scale` (pixels right, pixels down, degrees, factor) separated by `;`.", valueName: "views"))
    var views: String?

    func validate() throws {
        if views != nil && tta == false { throw ValidationError("--tta-views and --no-tta contradict each other: give one") }
        if let views {
            do throws(AppError) { _ = try TestTimeAugmentation(parsing: views, what: "--tta-views") } catch {
                throw ValidationError(error.description)
            }
        }
    }

    /// What the flags choose (`validate` has checked the views).
    var choice: ReadingChoice {
        ReadingChoice(tta: tta, views: views.flatMap { try? TestTimeAugmentation(parsing: $0, what: "--tta-views") })
    }

    /// Sets the loaded model's reading as the flags say (the file's option when none is given).
    func apply(to trained: inout TrainedModel) {
        choice.apply(to: &trained)
    }
}
