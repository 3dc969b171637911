import Foundation
import Testing

@testable import DigitsData

// MARK: - Reading IDX files

@Suite("IDX")
struct IDXTests {
    @Test(arguments: [false, true])
    func roundTrip(compressed: Bool) throws {
        let (expected, images, labels) = Synthetic.set(count: 7, rows: 5, columns: 3)
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(compressed ? Compress.gzip(images) : images, to: "images")
            let labelsURL = try dir.write(compressed ? Compress.gzip(labels) : labels, to: "labels")
            let read = try IDX.readImages(at: imagesURL)
            #expect(read.count == 7 && read.rows == 5 && read.columns == 3)
            #expect(read.pixels == expected.pixels)
            #expect(try IDX.readLabels(at: labelsURL) == expected.labels)
            #expect(try IDX.loadPair(images: imagesURL, labels: labelsURL) == expected)
        }
    }

    /// Compression is recognised from the content, not the name.
    @Test func gzipDetectedByContent() throws {
        let (expected, images, labels) = Synthetic.set()
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(Compress.gzip(images), to: "images.idx3")      // gzip without .gz
            let labelsURL = try dir.write(labels, to: "labels.idx1.gz")                  // raw despite .gz
            #expect(try IDX.loadPair(images: imagesURL, labels: labelsURL) == expected)
        }
    }

    @Test func zeroImagesIsAValidFile() throws {
        try TempDirectory.with { dir in
            let images = try dir.write(Synthetic.imagesFile(pixels: [], count: 0, rows: 28, columns: 28), to: "i")
            let labels = try dir.write(Synthetic.labelsFile([]), to: "l")
            let set = try IDX.loadPair(images: images, labels: labels)
            #expect(set.isEmpty && set.rows == 28)
        }
    }

    // MARK: - Errors

    @Test func missingFile() throws {
        try TempDirectory.with { dir in
            let url = dir.file("nope-idx3-ubyte")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .fileNotFound(file: url.path))
            expectDescription(error, names: url)
        }
    }

    @Test func unreadableDirectory() throws {
        try TempDirectory.with { dir in
            let error = dataError { () throws(DataError) in try IDX.readLabels(at: dir.url) }
            #expect(error == .unreadable(file: dir.url.path, reason: "is a directory"))
            expectDescription(error, names: dir.url)
        }
    }

    @Test func unreadableNonFileURL() throws {
        let url = try #require(URL(string: "https://example.com/train-images-idx3-ubyte"))
        let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
        guard case .unreadable(let file, _) = error else {
            Issue.record("expected .unreadable, got \(String(describing: error))")
            return
        }
        #expect(file == url.absoluteString)
    }

    @Test(arguments: [false, true])
    func emptyFile(compressed: Bool) throws {
        try TempDirectory.with { dir in
            let url = try dir.write(compressed ? Compress.gzip(Data()) : Data(), to: "empty")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .empty(file: url.path))
            expectDescription(error, names: url)
        }
    }

    @Test func truncatedHeader() throws {
        try TempDirectory.with { dir in
            let url = try dir.write(Data(Synthetic.word(IDX.imagesMagic) + [0, 0]), to: "short")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .truncated(file: url.path, expected: 16, actual: 6))
            expectDescription(error, names: url)
            #expect(error?.description.contains("16") == true && error?.description.contains("6") == true)
        }
    }

    @Test(arguments: [false, true])
    func truncatedPixels(compressed: Bool) throws {
        let (_, images, _) = Synthetic.set(count: 10, rows: 4, columns: 4)  // 16 + 160 bytes
        try TempDirectory.with { dir in
            let cut = images.prefix(images.count - 5)
            let url = try dir.write(compressed ? Compress.gzip(cut) : cut, to: "cut")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .truncated(file: url.path, expected: 176, actual: 171))
            expectDescription(error, names: url)
        }
    }

    @Test func truncatedLabels() throws {
        try TempDirectory.with { dir in
            let url = try dir.write(Synthetic.labelsFile([1, 2, 3], count: 5), to: "labels")
            let error = dataError { () throws(DataError) in try IDX.readLabels(at: url) }
            #expect(error == .truncated(file: url.path, expected: 13, actual: 11))
            expectDescription(error, names: url)
        }
    }

    @Test func trailingGarbage() throws {
        let (_, images, labels) = Synthetic.set(count: 3, rows: 2, columns: 2)  // 16 + 12 bytes
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(images + Data([9, 9]), to: "images")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: imagesURL) }
            #expect(error == .trailingBytes(file: imagesURL.path, expected: 28, actual: 30))
            expectDescription(error, names: imagesURL)

            let labelsURL = try dir.write(labels + Data([0]), to: "labels")
            let labelError = dataError { () throws(DataError) in try IDX.readLabels(at: labelsURL) }
            #expect(labelError == .trailingBytes(file: labelsURL.path, expected: 11, actual: 12))
        }
    }

    /// An images file where labels are expected (and the reverse) is caught by the magic number.
    @Test func wrongMagic() throws {
        let (_, images, labels) = Synthetic.set()
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(images, to: "train-images-idx3-ubyte")
            let labelsURL = try dir.write(labels, to: "train-labels-idx1-ubyte")

            let swapped = dataError { () throws(DataError) in try IDX.loadPair(images: labelsURL, labels: imagesURL) }
            #expect(swapped == .wrongMagic(file: labelsURL.path, expected: 2051, actual: 2049))
            expectDescription(swapped, names: labelsURL)
            #expect(swapped?.description.contains("labels file") == true)

            let asLabels = dataError { () throws(DataError) in try IDX.readLabels(at: imagesURL) }
            #expect(asLabels == .wrongMagic(file: imagesURL.path, expected: 2049, actual: 2051))

            let text = try dir.write("hello, world\n", to: "text")
            let notIDX = dataError { () throws(DataError) in try IDX.readImages(at: text) }
            #expect(notIDX == .wrongMagic(file: text.path, expected: 2051, actual: 0x6865_6C6C))
            expectDescription(notIDX, names: text)
        }
    }

    @Test(arguments: [(rows: 0, columns: 28), (rows: 28, columns: 0)])
    func badDimensions(rows: Int, columns: Int) throws {
        try TempDirectory.with { dir in
            let url = try dir.write(Synthetic.imagesFile(pixels: [], count: 5, rows: rows, columns: columns), to: "images")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .badDimensions(file: url.path, count: 5, rows: rows, columns: columns))
            expectDescription(error, names: url)
        }
    }

    /// Huge header values are a clean error (truncated), never an overflow trap.
    @Test func hugeDimensions() throws {
        try TempDirectory.with { dir in
            let max = Int(UInt32.max)
            let url = try dir.write(Synthetic.imagesFile(pixels: [1, 2], count: max, rows: max, columns: max), to: "images")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .badDimensions(file: url.path, count: max, rows: max, columns: max))

            let big = try dir.write(Synthetic.imagesFile(pixels: [1, 2], count: max, rows: 28, columns: 28), to: "big")
            let bigError = dataError { () throws(DataError) in try IDX.readImages(at: big) }
            #expect(bigError == .truncated(file: big.path, expected: 16 + max * 784, actual: 18))
        }
    }

    @Test func countMismatch() throws {
        let (_, images, _) = Synthetic.set(count: 12)
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(images, to: "images")
            let labelsURL = try dir.write(Synthetic.labelsFile(Synthetic.labels(count: 11)), to: "labels")
            let error = dataError { () throws(DataError) in try IDX.loadPair(images: imagesURL, labels: labelsURL) }
            #expect(error == .countMismatch(images: imagesURL.path, imageCount: 12, labels: labelsURL.path, labelCount: 11))
            expectDescription(error, names: imagesURL)
            expectDescription(error, names: labelsURL)
        }
    }

    @Test func labelOutOfRange() throws {
        let (_, images, _) = Synthetic.set(count: 4)
        try TempDirectory.with { dir in
            let imagesURL = try dir.write(images, to: "images")
            let labelsURL = try dir.write(Synthetic.labelsFile([3, 9, 10, 200]), to: "labels")
            let error = dataError { () throws(DataError) in try IDX.loadPair(images: imagesURL, labels: labelsURL) }
            #expect(error == .labelOutOfRange(file: labelsURL.path, index: 2, value: 10))
            expectDescription(error, names: labelsURL)
        }
    }
}
