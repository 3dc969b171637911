import DigitsCore
import DigitsData
import Foundation

/// Where the images come from: the bundled MNIST copy, another IDX directory, or Kaggle CSVs.
public enum DataSource: Sendable, Equatable {
    case bundled
    case directory(String)
    case csv(train: String, test: String)

    /// "bundled MNIST", "IDX files in DIR", "CSV files A and B"
    public var description: String {
        switch self {
        case .bundled: "the bundled MNIST"
        case .directory(let d): "IDX files in \(d)"
        case let .csv(train, test): "\(train) and \(test)"
        }
    }

    /// Loads the training and test images.
    public func loadImages() throws(DataError) -> (train: ImageSet, test: ImageSet) {
        switch self {
        case .bundled:
            return try MNIST.loadBundled()
        case .directory(let d):
            return try MNIST.load(directory: URL(fileURLWithPath: d))
        case let .csv(train, test):
            return (try CSVDigits.read(at: URL(fileURLWithPath: train)), try CSVDigits.read(at: URL(fileURLWithPath: test)))
        }
    }

    /// Loads both sets as datasets whose samples have `sampleShape` (such as `[784]` or
    /// `[1, 28, 28]`); throws when the images do not have that many pixels.
    public func load(sampleShape: [Int]) throws(AppError) -> (train: Dataset, test: Dataset) {
        let images: (train: ImageSet, test: ImageSet)
        do { images = try loadImages() } catch { throw AppError(error.description) }
        return (try images.train.dataset(sampleShape: sampleShape, source: self),
                try images.test.dataset(sampleShape: sampleShape, source: self))
    }
}

extension ImageSet {
    /// These images as a core `Dataset` with 10 classes.
    public func dataset(sampleShape: [Int], source: DataSource) throws(AppError) -> Dataset {
        guard rows * columns == sampleShape.reduce(1, *) else {
            throw AppError("\(source.description) has \(rows)×\(columns) images, but the network takes inputs of shape \(sampleShape)")
        }
        return Dataset(sampleShape: sampleShape, features: pixels, labels: labels.map { Int32($0) }, classes: 10)
    }
}

/// A failure the command line reports in one line.
public struct AppError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
