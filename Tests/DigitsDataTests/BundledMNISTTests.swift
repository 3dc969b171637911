import Foundation
import Testing

@testable import DigitsData

// MARK: - The bundled MNIST copy

/// Loaded once for all tests in this suite.
private let bundled = Result { () throws(DataError) in try MNIST.loadBundled() }

@Suite("Bundled MNIST")
struct BundledMNISTTests {
    @Test func directoryHoldsTheFourFiles() throws {
        let directory = try MNIST.bundledDirectory
        for role in MNIST.FileRole.allCases {
            let file = directory.appendingPathComponent(role.stems[0] + ".gz")
            #expect(FileManager.default.fileExists(atPath: file.path), "\(file.path)")
        }
    }

    @Test func sizes() throws {
        let (train, test) = try bundled.get()
        #expect(train.count == 60_000)
        #expect(test.count == 10_000)
        for set in [train, test] {
            #expect(set.rows == 28 && set.columns == 28)
            #expect(set.pixels.count == set.count * 784)
            #expect(set.labels.count == set.count)
            #expect(set.labels.allSatisfy { $0 <= 9 })
        }
    }

    @Test func knownValues() throws {
        let (train, test) = try bundled.get()
        #expect(Array(train.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(train.image(at: 0).reduce(0) { $0 + Int($1) } == 27_525)
        #expect(test.image(at: 0).reduce(0) { $0 + Int($1) } == 18_454)
        #expect(train.labelCounts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(test.labelCounts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    }

    /// Sums over the first and last 1,000 training images and the whole test set
    /// (kept to a few million bytes so the test stays quick in debug builds).
    @Test func pixelSums() throws {
        let (train, test) = try bundled.get()
        let sum = { (pixels: ArraySlice<UInt8>) in pixels.withUnsafeBufferPointer { $0.reduce(0) { $0 + Int($1) } } }
        let thousand = 1000 * 784
        #expect(sum(train.pixels.prefix(thousand)) == 25_637_533)
        #expect(sum(train.pixels.suffix(thousand)) == 28_044_351)
        #expect(sum(test.pixels[...]) == 264_923_200)
    }
}
