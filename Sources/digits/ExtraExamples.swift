import DigitsApp
import DigitsCore
import DigitsData
import DigitsServer
import Foundation

/// `--extra PATH` of `digits train` and `digits finetune`: a person's own labelled 28×28 digits,
/// either a CSV file (a label, then the 784 pixels, a line each: what the static studio of
/// `digits web` exports, and Kaggle's MNIST CSV layout) or an examples directory as `digits serve`
/// keeps it (an IDX pair with its journal).
enum ExtraExamples {
    /// The examples at `path`: 784 bytes each (0 background … 255 ink) and their labels 0-9.
    static func load(_ path: String) throws(AppError) -> (pixels: [UInt8], labels: [UInt8]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AppError("--extra \(path): no such file or directory (a CSV file of examples, or an examples directory)")
        }
        if isDirectory.boolValue {
            do { return try ExampleStore(directory: URL(fileURLWithPath: path)).all } catch { throw AppError(error.description) }
        }
        do {
            let set = try CSVDigits.read(at: URL(fileURLWithPath: path))
            return (set.pixels, set.labels)
        } catch { throw AppError("--extra: \(error.description)") }
    }

    /// `train` with the examples added at its end (same sample shape and classes).
    static func adding(_ extra: (pixels: [UInt8], labels: [UInt8]), to train: Dataset, path: String) throws(AppError) -> Dataset {
        guard train.sampleSize == CSVDigits.rows * CSVDigits.columns else {
            throw AppError("--extra \(path): the examples are 28×28 digits, but the training samples have \(train.sampleSize) values")
        }
        if let bad = extra.labels.first(where: { Int($0) >= train.classes }) {
            throw AppError("--extra \(path): label \(bad) is not one of the data's \(train.classes) classes")
        }
        return Dataset(sampleShape: train.sampleShape, features: train.features + extra.pixels,
                       labels: train.labels + extra.labels.map { Int32($0) }, classes: train.classes)
    }
}
