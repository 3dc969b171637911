// MARK: - DataError

/// Everything that can go wrong while loading image data.
///
/// Every case names the file concerned (its path; ``bundleNotFound(searched:)`` lists the
/// places searched). ``description`` is a single
/// line: `<file>: <message>` for file errors and `<file>:<line>: <message>` for
/// CSV errors, so it reads like a compiler diagnostic.
public enum DataError: Error, Equatable, CustomStringConvertible {
    // MARK: Files and directories

    /// No file (or directory) exists at the path.
    case fileNotFound(file: String)
    /// The path exists but could not be read (it is a directory, not a file URL, an I/O error...).
    case unreadable(file: String, reason: String)
    /// The file holds no bytes (or, for CSV, no data rows; for `.gz`, nothing once decompressed).
    case empty(file: String)
    /// A data directory lacks one of the expected files; `name` is the name looked for.
    case missingFile(directory: String, name: String)
    /// A data directory holds several different files that could serve the same purpose.
    case ambiguousFiles(directory: String, names: [String])
    /// The MNIST copy bundled as a resource was not found; `searched` lists the directories tried.
    case bundleNotFound(searched: [String])

    // MARK: IDX

    /// The file is shorter than its header says (`expected` and `actual` are byte counts,
    /// after decompression for `.gz`).
    case truncated(file: String, expected: Int, actual: Int)
    /// The file is longer than its header says: there are trailing bytes.
    case trailingBytes(file: String, expected: Int, actual: Int)
    /// The file does not start with the IDX magic number expected (2051 images, 2049 labels).
    case wrongMagic(file: String, expected: UInt32, actual: UInt32)
    /// The header's dimensions are unusable (a zero size, or too large to address).
    case badDimensions(file: String, count: Int, rows: Int, columns: Int)
    /// An images file and its labels file disagree on the number of items.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A file's images are not the same size as those of the set it goes with (train vs test).
    case shapeMismatch(file: String, rows: Int, columns: Int, expectedRows: Int, expectedColumns: Int)
    /// A label outside `0...9`; `index` is the 0-based item number.
    case labelOutOfRange(file: String, index: Int, value: UInt8)
    /// A header declaring more data than the reader accepts (`limit` bytes).
    case tooLarge(file: String, declared: Int, limit: Int)

    // MARK: Gzip

    /// The gzip data is corrupt or truncated.
    case badGzip(file: String, reason: String)

    // MARK: CSV

    /// A CSV row with the wrong number of fields (`line` is 1-based, counting any header).
    case csvRowLength(file: String, line: Int, expected: Int, actual: Int)
    /// A CSV label outside `0...9` (column 1) or pixel outside `0...255` (columns 2...);
    /// `column` is 1-based and `value` is the text as written.
    case csvValueOutOfRange(file: String, line: Int, column: Int, value: String)
    /// A CSV field that is not a whole number; `text` is the field as written (may be empty).
    case csvNotANumber(file: String, line: Int, column: Int, text: String)

    // MARK: - Description

    /// One line naming the file (and the line number for CSV errors).
    public var description: String {
        switch self {
        case let .fileNotFound(file):
            return "\(file): no such file or directory"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .empty(file):
            return "\(file): file is empty (no data)"
        case let .missingFile(directory, name):
            return "\(directory): no file \(name) (or \(name).gz, or a variant such as *-\(name)) in this directory"
        case let .ambiguousFiles(directory, names):
            return "\(directory): several candidate files, keep only one: \(names.joined(separator: ", "))"
        case let .bundleNotFound(searched):
            return "bundled MNIST copy not found; looked in: \(searched.joined(separator: ", "))"
        case let .truncated(file, expected, actual):
            return "\(file): truncated: header needs \(expected) bytes, file has \(actual)"
        case let .trailingBytes(file, expected, actual):
            return "\(file): \(actual - expected) unexpected trailing bytes: header needs \(expected) bytes, file has \(actual)"
        case let .wrongMagic(file, expected, actual):
            return "\(file): not an IDX \(Self.idxKind(expected)) file: magic number \(actual)"
                + "\(Self.idxKindNote(actual)), expected \(expected)"
        case let .badDimensions(file, count, rows, columns):
            return "\(file): unusable dimensions \(count) × \(rows) × \(columns)"
        case let .countMismatch(images, imageCount, labels, labelCount):
            return "\(images): \(imageCount) images but \(labels) has \(labelCount) labels"
        case let .shapeMismatch(file, rows, columns, expectedRows, expectedColumns):
            return "\(file): images are \(rows)×\(columns), expected \(expectedRows)×\(expectedColumns) like the training set"
        case let .labelOutOfRange(file, index, value):
            return "\(file): label \(value) of item \(index) is outside 0...9"
        case let .tooLarge(file, declared, limit):
            return "\(file): the header declares \(declared) bytes of data, more than the limit of \(limit)"
        case let .badGzip(file, reason):
            return "\(file): bad gzip data: \(reason)"
        case let .csvRowLength(file, line, expected, actual):
            return "\(file):\(line): row has \(actual) fields, expected \(expected) (a label then \(expected - 1) pixels)"
        case let .csvValueOutOfRange(file, line, column, value):
            let what = column == 1 ? "label" : "pixel"
            let range = column == 1 ? "0...9" : "0...255"
            return "\(file):\(line): \(what) \(value) in column \(column) is outside \(range)"
        case let .csvNotANumber(file, line, column, text):
            let shown = text.isEmpty ? "an empty field" : "\"\(Self.clipped(text))\""
            return "\(file):\(line): column \(column) is \(shown), not a whole number"
        }
    }

    // MARK: - Helpers

    private static func idxKind(_ magic: UInt32) -> String {
        switch magic {
        case IDX.imagesMagic: return "images"
        case IDX.labelsMagic: return "labels"
        default: return "data"
        }
    }

    private static func idxKindNote(_ magic: UInt32) -> String {
        switch magic {
        case IDX.imagesMagic: return " (an IDX images file)"
        case IDX.labelsMagic: return " (an IDX labels file)"
        default: return ""
        }
    }

    /// Keeps descriptions to one short line whatever the field held.
    private static func clipped(_ text: String) -> String {
        let oneLine = text.map { $0.isNewline ? " " : $0 }
        return oneLine.count > 20 ? String(oneLine.prefix(20)) + "…" : String(oneLine)
    }
}
