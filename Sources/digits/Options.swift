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
    @Option(name: .customLong("model"), help: ArgumentHelp("The model file to read.", valueName: "path"))
    var path: String = TrainedModel.defaultPath
}

// MARK: - Argument values

/// `--activation sigmoid | tanh | relu | leaky-relu[:ALPHA]`
struct ActivationArgument: ExpressibleByArgument {
    var value: Activation
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "sigmoid": value = .sigmoid
        case "tanh": value = .tanh
        case "relu": value = .relu
        case "leaky-relu", "leakyrelu", "leaky_relu":
            let alpha = parts.count > 1 ? Float(parts[1]) : 0.01
            guard let alpha else { return nil }
            value = .leakyReLU(alpha: alpha)
        default: return nil
        }
    }
    static var allValueStrings: [String] { ["sigmoid", "tanh", "relu", "leaky-relu[:alpha]"] }
}

/// `--init he | xavier | lecun-uniform | uniform:LOW:HIGH | normal:STD | zeros`
struct InitializerArgument: ExpressibleByArgument {
    var value: Initializer
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: ":").map(String.init)
        let numbers = parts.dropFirst().compactMap(Float.init)
        guard numbers.count == parts.count - 1 else { return nil }
        switch (parts[0], numbers.count) {
        case ("he", 0): value = .he
        case ("xavier", 0), ("glorot", 0): value = .xavier
        case ("lecun-uniform", 0), ("lecun", 0): value = .lecunUniform
        case ("uniform", 2) where numbers[0] < numbers[1]: value = .uniform(low: numbers[0], high: numbers[1])
        case ("normal", 1) where numbers[0] > 0: value = .normal(std: numbers[0])
        case ("zeros", 0): value = .zeros
        default: return nil
        }
    }
    static var allValueStrings: [String] { ["he", "xavier", "lecun-uniform", "uniform:low:high", "normal:std", "zeros"] }
}

/// `--optimizer sgd | momentum | nesterov | adam | adamw`
enum OptimizerArgument: String, ExpressibleByArgument, CaseIterable {
    case sgd, momentum, nesterov, adam, adamw
}

/// `--schedule constant | step | cosine | one-cycle`
enum ScheduleArgument: String, ExpressibleByArgument, CaseIterable {
    case constant, step, cosine
    case oneCycle = "one-cycle"
}

extension LossKind: ExpressibleByArgument {}
extension OutputKind: ExpressibleByArgument {}
extension Batching: ExpressibleByArgument {}
extension Reduction: ExpressibleByArgument {}
