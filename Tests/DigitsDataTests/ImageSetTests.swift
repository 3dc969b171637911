import Foundation
import Testing

@testable import DigitsData

// MARK: - ImageSet

@Suite("ImageSet")
struct ImageSetTests {
    let set = Synthetic.set(count: 5, rows: 2, columns: 3).set

    @Test func imageAccess() {
        #expect(set.imageSize == 6)
        #expect(Array(set.image(at: 0)) == Array(set.pixels[0 ..< 6]))
        #expect(Array(set.image(at: 4)) == Array(set.pixels[24 ..< 30]))
        #expect(set.label(at: 3) == 3)
        #expect(set.labelCounts == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    }

    @Test func prefix() {
        #expect(set.prefix(2).count == 2)
        #expect(set.prefix(2).pixels == Array(set.pixels[0 ..< 12]))
        #expect(set.prefix(2).labels == [0, 1])
        #expect(set.prefix(99) == set)
        #expect(set.prefix(-1).isEmpty)
    }
}

// MARK: - Error descriptions

@Suite("DataError descriptions")
struct DataErrorTests {
    static let all: [DataError] = [
        .fileNotFound(file: "/d/f"), .unreadable(file: "/d/f", reason: "is a directory"), .empty(file: "/d/f"),
        .missingFile(directory: "/d", name: "train-images-idx3-ubyte"), .ambiguousFiles(directory: "/d", names: ["a", "b"]),
        .bundleNotFound(searched: ["/d/x/mnist", "/d/y/mnist"]),
        .truncated(file: "/d/f", expected: 10, actual: 4), .trailingBytes(file: "/d/f", expected: 10, actual: 14),
        .wrongMagic(file: "/d/f", expected: 2049, actual: 2051), .badDimensions(file: "/d/f", count: 1, rows: 0, columns: 28),
        .countMismatch(images: "/d/f", imageCount: 2, labels: "/d/g", labelCount: 3),
        .shapeMismatch(file: "/d/f", rows: 1, columns: 2, expectedRows: 3, expectedColumns: 4),
        .labelOutOfRange(file: "/d/f", index: 7, value: 12), .badGzip(file: "/d/f", reason: "bad"),
        .csvRowLength(file: "/d/f", line: 4, expected: 785, actual: 3),
        .csvValueOutOfRange(file: "/d/f", line: 4, column: 2, value: "300"),
        .csvNotANumber(file: "/d/f", line: 4, column: 2, text: "a\nvery long field that goes on and on"),
    ]

    @Test(arguments: all)
    func oneLineNamingTheFile(error: DataError) {
        #expect(!error.description.contains("\n"))
        if case .bundleNotFound = error {
            #expect(error.description.contains("/d/x/mnist, /d/y/mnist"))
        } else {
            #expect(error.description.hasPrefix("/d"))
        }
        if case .csvRowLength = error { #expect(error.description.hasPrefix("/d/f:4: ")) }
    }

    @Test func examples() {
        #expect(DataError.wrongMagic(file: "/d/f", expected: 2049, actual: 2051).description
            == "/d/f: not an IDX labels file: magic number 2051 (an IDX images file), expected 2049")
        #expect(DataError.csvValueOutOfRange(file: "a.csv", line: 4, column: 1, value: "10").description
            == "a.csv:4: label 10 in column 1 is outside 0...9")
        #expect(DataError.truncated(file: "/d/f", expected: 176, actual: 171).description
            == "/d/f: truncated: header needs 176 bytes, file has 171")
    }
}
