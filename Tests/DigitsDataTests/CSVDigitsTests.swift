import Foundation
import Testing

@testable import DigitsData

// MARK: - CSV

@Suite("CSVDigits")
struct CSVDigitsTests {
    static let header = "label," + (1 ... 784).map { "pixel\($0 - 1)" }.joined(separator: ",")

    /// A row: `label` then 784 pixels `(i * step + label) % 256`.
    static func row(label: Int, step: Int = 3) -> (text: String, pixels: [UInt8]) {
        let pixels = (0 ..< 784).map { UInt8(($0 * step + label) % 256) }
        return ("\(label)," + pixels.map(String.init).joined(separator: ","), pixels)
    }

    /// A row whose fields are given, for malformed rows.
    static func row(fields: [String]) -> String { fields.joined(separator: ",") }

    static func validFields() -> [String] { ["1"] + Array(repeating: "0", count: 784) }

    static let rows = [row(label: 5), row(label: 0, step: 1), row(label: 9, step: 11)]

    static func expectRows(_ set: ImageSet) {
        #expect(set.count == 3 && set.rows == 28 && set.columns == 28)
        #expect(set.labels == [5, 0, 9])
        #expect(set.pixels == rows.flatMap(\.pixels))
    }

    @Test func withHeader() throws {
        try TempDirectory.with { dir in
            let url = try dir.write(([Self.header] + Self.rows.map(\.text)).joined(separator: "\n") + "\n", to: "mnist_train.csv")
            Self.expectRows(try CSVDigits.read(at: url))
        }
    }

    @Test func withoutHeaderOrFinalNewline() throws {
        try TempDirectory.with { dir in
            let url = try dir.write(Self.rows.map(\.text).joined(separator: "\n"), to: "rows.csv")
            Self.expectRows(try CSVDigits.read(at: url))
        }
    }

    @Test func crlfAndBlankTrailingLines() throws {
        try TempDirectory.with { dir in
            let text = ([Self.header] + Self.rows.map(\.text)).joined(separator: "\r\n") + "\r\n\r\n  \r\n\n"
            let url = try dir.write(text, to: "crlf.csv")
            Self.expectRows(try CSVDigits.read(at: url))
        }
    }

    @Test func quotedHeaderByteOrderMarkAndSpaces() throws {
        try TempDirectory.with { dir in
            let header = "\u{FEFF}\"label\",\"p0\""
            let spaced = Self.rows[0].text.replacingOccurrences(of: ",", with: " , ")
            let url = try dir.write([header, spaced, Self.rows[1].text, Self.rows[2].text].joined(separator: "\n"), to: "q.csv")
            Self.expectRows(try CSVDigits.read(at: url))
        }
    }

    @Test func gzippedCSV() throws {
        try TempDirectory.with { dir in
            let text = ([Self.header] + Self.rows.map(\.text)).joined(separator: "\n")
            let url = try dir.write(Compress.gzip(Data(text.utf8)), to: "mnist_test.csv.gz")
            Self.expectRows(try CSVDigits.read(at: url))
        }
    }

    // MARK: - Errors (line numbers are 1-based and count the header)

    /// Writes a header, one good row, then `bad`: the bad row is on line 3.
    static func readWithBadThirdLine(_ bad: String) throws -> (DataError?, URL) {
        try TempDirectory.with { dir in
            let url = try dir.write([header, rows[0].text, bad, rows[1].text].joined(separator: "\n"), to: "bad.csv")
            return (dataError { () throws(DataError) in try CSVDigits.read(at: url) }, url)
        }
    }

    @Test(arguments: [784, 786, 1])
    func rowLength(fields: Int) throws {
        var values = Array(Self.validFields().prefix(fields))
        while values.count < fields { values.append("0") }
        let (error, url) = try Self.readWithBadThirdLine(Self.row(fields: values))
        #expect(error == .csvRowLength(file: url.path, line: 3, expected: 785, actual: fields))
        expectDescription(error, names: url, line: 3)
    }

    @Test func trailingCommaIsAnExtraField() throws {
        let (error, url) = try Self.readWithBadThirdLine(Self.row(fields: Self.validFields()) + ",")
        #expect(error == .csvRowLength(file: url.path, line: 3, expected: 785, actual: 786))
    }

    @Test(arguments: [
        (column: 1, text: "five"), (column: 2, text: "x"), (column: 300, text: "1.5"),
        (column: 785, text: ""), (column: 40, text: "12abc"), (column: 7, text: "\"3\""),
    ])
    func notANumber(column: Int, text: String) throws {
        var fields = Self.validFields()
        fields[column - 1] = text
        let (error, url) = try Self.readWithBadThirdLine(Self.row(fields: fields))
        #expect(error == .csvNotANumber(file: url.path, line: 3, column: column, text: text))
        expectDescription(error, names: url, line: 3)
    }

    @Test(arguments: [
        (column: 1, value: "10"), (column: 1, value: "-1"), (column: 2, value: "256"),
        (column: 785, value: "-3"), (column: 9, value: "99999999999999999999999"),
    ])
    func valueOutOfRange(column: Int, value: String) throws {
        var fields = Self.validFields()
        fields[column - 1] = value
        let (error, url) = try Self.readWithBadThirdLine(Self.row(fields: fields))
        #expect(error == .csvValueOutOfRange(file: url.path, line: 3, column: column, value: value))
        expectDescription(error, names: url, line: 3)
        #expect(error?.description.contains(column == 1 ? "label" : "pixel") == true)
    }

    /// Without a header, the first line is line 1.
    @Test func lineNumbersWithoutHeader() throws {
        try TempDirectory.with { dir in
            let url = try dir.write([Self.rows[0].text, "", "3,1,2"].joined(separator: "\n"), to: "nohead.csv")
            let error = dataError { () throws(DataError) in try CSVDigits.read(at: url) }
            #expect(error == .csvRowLength(file: url.path, line: 3, expected: 785, actual: 3))
        }
    }

    /// A first line that is numeric but malformed is a data error on line 1, not a header.
    @Test func badFirstRowIsNotAHeader() throws {
        var fields = Self.validFields()
        fields[10] = "oops"
        try TempDirectory.with { dir in
            let url = try dir.write(Self.row(fields: fields), to: "first.csv")
            let error = dataError { () throws(DataError) in try CSVDigits.read(at: url) }
            #expect(error == .csvNotANumber(file: url.path, line: 1, column: 11, text: "oops"))
        }
    }

    @Test(arguments: ["", "\n\n", "label,pixel0\n", "label,pixel0\r\n\r\n"])
    func noData(text: String) throws {
        try TempDirectory.with { dir in
            let url = try dir.write(text, to: "empty.csv")
            let error = dataError { () throws(DataError) in try CSVDigits.read(at: url) }
            #expect(error == .empty(file: url.path))
            expectDescription(error, names: url)
        }
    }

    @Test func missingFile() throws {
        try TempDirectory.with { dir in
            let url = dir.file("mnist_train.csv")
            let error = dataError { () throws(DataError) in try CSVDigits.read(at: url) }
            #expect(error == .fileNotFound(file: url.path))
            expectDescription(error, names: url)
        }
    }

    /// No input traps: random bytes give a DataError (or, by luck, a set).
    @Test func garbageNeverTraps() throws {
        var generator = SystemRandomNumberGenerator()
        try TempDirectory.with { dir in
            for length in [1, 7, 1569, 5000] {
                let bytes = Data((0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) })
                let url = try dir.write(bytes, to: "garbage-\(length).csv")
                _ = try? CSVDigits.read(at: url)
                _ = try? IDX.readImages(at: url)
                _ = try? IDX.readLabels(at: url)
            }
        }
    }
}
