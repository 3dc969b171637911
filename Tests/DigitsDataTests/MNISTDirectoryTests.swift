import Foundation
import Testing

@testable import DigitsData

// MARK: - Loading a directory of MNIST-style files

@Suite("MNIST.load(directory:)")
struct MNISTDirectoryTests {
    /// A naming style: the four file names (without `.gz`).
    struct Naming: CustomTestStringConvertible, Sendable {
        var trainImages, trainLabels, testImages, testLabels: String
        var testDescription: String { trainImages }

        static let mnist = Naming(
            trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
            testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")
        static let dotted = Naming(
            trainImages: "train-images.idx3-ubyte", trainLabels: "train-labels.idx1-ubyte",
            testImages: "t10k-images.idx3-ubyte", testLabels: "t10k-labels.idx1-ubyte")
        static let emnist = Naming(
            trainImages: "emnist-digits-train-images-idx3-ubyte", trainLabels: "emnist-digits-train-labels-idx1-ubyte",
            testImages: "emnist-digits-test-images-idx3-ubyte", testLabels: "emnist-digits-test-labels-idx1-ubyte")
        static let all = [mnist, dotted, emnist]
    }

    /// Writes a small train set (12 images) and test set (5 images) under `naming`.
    static func writeSet(_ naming: Naming, compressed: Bool, in dir: TempDirectory) throws -> (train: ImageSet, test: ImageSet) {
        let train = Synthetic.set(count: 12, rows: 4, columns: 3, seed: 1)
        let test = Synthetic.set(count: 5, rows: 4, columns: 3, seed: 2)
        let suffix = compressed ? ".gz" : ""
        let encode = { (data: Data) in compressed ? Compress.gzip(data) : data }
        try dir.write(encode(train.images), to: naming.trainImages + suffix)
        try dir.write(encode(train.labels), to: naming.trainLabels + suffix)
        try dir.write(encode(test.images), to: naming.testImages + suffix)
        try dir.write(encode(test.labels), to: naming.testLabels + suffix)
        return (train.set, test.set)
    }

    @Test(arguments: Naming.all, [false, true])
    func namingStyles(naming: Naming, compressed: Bool) throws {
        try TempDirectory.with { dir in
            let expected = try Self.writeSet(naming, compressed: compressed, in: dir)
            let loaded = try MNIST.load(directory: dir.url)
            #expect(loaded.train == expected.train)
            #expect(loaded.test == expected.test)
        }
    }

    /// Raw and gzipped copies of the same file side by side are fine (the raw one is used).
    @Test func rawAndGzipTogether() throws {
        try TempDirectory.with { dir in
            let expected = try Self.writeSet(.mnist, compressed: true, in: dir)
            _ = try Self.writeSet(.mnist, compressed: false, in: dir)
            #expect(try MNIST.load(directory: dir.url).train == expected.train)
        }
    }

    /// The EMNIST download holds several splits; the test files follow the training files' prefix.
    @Test func prefixFollowsTrainingFiles() throws {
        try TempDirectory.with { dir in
            let expected = try Self.writeSet(.emnist, compressed: true, in: dir)
            try dir.write(Synthetic.set(count: 3).images, to: "emnist-letters-test-images-idx3-ubyte.gz")
            let loaded = try MNIST.load(directory: dir.url)
            #expect(loaded.test == expected.test)
        }
    }

    @Test func ambiguousPrefixes() throws {
        try TempDirectory.with { dir in
            _ = try Self.writeSet(.emnist, compressed: true, in: dir)
            let other = Synthetic.set(count: 2)
            try dir.write(Compress.gzip(other.images), to: "emnist-mnist-train-images-idx3-ubyte.gz")
            let error = dataError { () throws(DataError) in try MNIST.load(directory: dir.url) }
            #expect(error == .ambiguousFiles(directory: dir.url.path, names: [
                "emnist-digits-train-images-idx3-ubyte.gz", "emnist-mnist-train-images-idx3-ubyte.gz",
            ]))
            expectDescription(error, names: dir.url)
        }
    }

    @Test func missingFileNamesDirectoryAndFile() throws {
        try TempDirectory.with { dir in
            _ = try Self.writeSet(.mnist, compressed: true, in: dir)
            try FileManager.default.removeItem(at: dir.file("t10k-labels-idx1-ubyte.gz"))
            let error = dataError { () throws(DataError) in try MNIST.load(directory: dir.url) }
            #expect(error == .missingFile(directory: dir.url.path, name: "t10k-labels-idx1-ubyte"))
            expectDescription(error, names: dir.url)
            #expect(error?.description.contains("t10k-labels-idx1-ubyte") == true)
        }
    }

    @Test func emptyDirectory() throws {
        try TempDirectory.with { dir in
            let error = dataError { () throws(DataError) in try MNIST.load(directory: dir.url) }
            #expect(error == .missingFile(directory: dir.url.path, name: "train-images-idx3-ubyte"))
        }
    }

    @Test func nonexistentDirectory() throws {
        try TempDirectory.with { dir in
            let missing = dir.file("no-such-dir")
            let error = dataError { () throws(DataError) in try MNIST.load(directory: missing) }
            #expect(error == .fileNotFound(file: missing.path))
            expectDescription(error, names: missing)
        }
    }

    @Test func fileInsteadOfDirectory() throws {
        try TempDirectory.with { dir in
            let file = try dir.write("x", to: "plain")
            let error = dataError { () throws(DataError) in try MNIST.load(directory: file) }
            #expect(error == .unreadable(file: file.path, reason: "not a directory"))
        }
    }

    /// An error inside one of the files names that file.
    @Test func errorsInsideFilesNameTheFile() throws {
        try TempDirectory.with { dir in
            _ = try Self.writeSet(.mnist, compressed: false, in: dir)
            let labels = try dir.write(Synthetic.labelsFile(Synthetic.labels(count: 4)), to: "t10k-labels-idx1-ubyte")
            let error = dataError { () throws(DataError) in try MNIST.load(directory: dir.url) }
            #expect(error == .countMismatch(
                images: dir.file("t10k-images-idx3-ubyte").path, imageCount: 5, labels: labels.path, labelCount: 4))
        }
    }

    @Test func testImagesOfAnotherSize() throws {
        try TempDirectory.with { dir in
            _ = try Self.writeSet(.mnist, compressed: false, in: dir)
            let other = Synthetic.set(count: 5, rows: 3, columns: 3)
            let images = try dir.write(other.images, to: "t10k-images-idx3-ubyte")
            let error = dataError { () throws(DataError) in try MNIST.load(directory: dir.url) }
            #expect(error == .shapeMismatch(file: images.path, rows: 3, columns: 3, expectedRows: 4, expectedColumns: 3))
            expectDescription(error, names: images)
        }
    }

    // MARK: - Name matching

    @Test(arguments: [
        ("train-images-idx3-ubyte", true), ("TRAIN-IMAGES-IDX3-UBYTE.GZ", true),
        ("fashion_train-images-idx3-ubyte.gz", true), ("mytrain-images-idx3-ubyte", false),
        ("train-images-idx3-ubyte.bak", false), ("train-labels-idx1-ubyte", false),
    ])
    func trainImageNames(name: String, accepted: Bool) {
        #expect(MNIST.matches(.trainImages, in: [name]).isEmpty == !accepted)
    }
}
