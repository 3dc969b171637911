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
        let images = try loadNonEmpty()
        return (try images.train.dataset(sampleShape: sampleShape, source: self),
                try images.test.dataset(sampleShape: sampleShape, source: self))
    }

    /// Loads both sets, refusing a set with no images.
    public func loadNonEmpty() throws(AppError) -> (train: ImageSet, test: ImageSet) {
        let images: (train: ImageSet, test: ImageSet)
        do { images = try loadImages() } catch { throw AppError(error.description) }
        for (name, set) in [("training", images.train), ("test", images.test)] where set.count == 0 {
            throw AppError("\(fileDescription(test: name == "test")): the \(name) set has no images")
        }
        return images
    }

    /// Loads one set as 28×28 digits for pictures (`show`, `export`): no network is involved,
    /// so the message about other sizes speaks of the pictures.
    public func loadDigits(test: Bool) throws(AppError) -> Dataset {
        let images = try loadNonEmpty()
        let set = test ? images.test : images.train
        guard set.rows == 28 && set.columns == 28 else {
            throw AppError("\(fileDescription(test: test)) has \(set.rows)×\(set.columns) images; pictures are drawn of 28×28 digits only")
        }
        return Dataset(sampleShape: [784], features: set.pixels, labels: set.labels.map { Int32($0) }, classes: 10)
    }

    /// The files of one set, for messages.
    func fileDescription(test: Bool) -> String {
        switch self {
        case .bundled: "the bundled MNIST"
        case .directory(let d): "the IDX files in \(d)"
        case let .csv(train, testFile): test ? testFile : train
        }
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
