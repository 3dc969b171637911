import Foundation

// MARK: - CSVDigits

/// Reader for MNIST as CSV, the layout of Kaggle's `mnist_train.csv` / `mnist_test.csv`:
/// one image per line, the label first and then 784 pixel values (28×28, row-major),
/// separated by commas.
///
/// - A first line whose first field is not a number (e.g. `label,1x1,1x2,...`) is a header
///   and is skipped.
/// - Blank lines are skipped; `\r\n` and `\r` line ends, a UTF-8 byte-order mark and spaces around
///   values are accepted. A `.gz` file is decompressed first.
/// - Line numbers in errors are 1-based and count every line, header and blank lines included.
///
/// The bytes are parsed directly (no `String` splitting), so 60,000 rows take a fraction
/// of a second in a release build.
public enum CSVDigits {
    /// Height of each image.
    public static let rows = 28
    /// Width of each image.
    public static let columns = 28
    /// Fields in each data row: the label and then `rows * columns` pixels.
    public static let fieldsPerRow = 1 + rows * columns

    // MARK: - Reading

    /// Reads a CSV file of labelled 28×28 digits.
    ///
    /// - Throws: ``DataError`` if the file is missing, unreadable or has no data rows
    ///   (``DataError/empty(file:)``), and, naming the line, for a row with the wrong
    ///   number of fields, a field that is not a whole number, a label outside 0...9 or
    ///   a pixel outside 0...255.
    public static func read(at url: URL) throws(DataError) -> ImageSet {
        let file = DataFile.name(url)
        var data = try DataFile.readDecompressed(url)
        // Old Mac line ends (CR only): read each CR as a line end.
        if data.contains(carriageReturn) && !data.contains(newline) {
            data = Data(data.map { $0 == carriageReturn ? newline : $0 })
        }
        let result: Result<ImageSet, DataError> = data.withUnsafeBytes { bytes in
            Result { () throws(DataError) in try parse(bytes, file: file) }
        }
        return try result.get()
    }

    // MARK: - Parsing

    /// The shortest possible data row: `0,0,...,0` (785 digits and 784 commas).
    private static let shortestRow = 2 * fieldsPerRow - 1

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let comma = UInt8(ascii: ",")
    private static let quote = UInt8(ascii: "\"")

    private static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(DataError) -> ImageSet {
        let buffer = bytes.bindMemory(to: UInt8.self)
        guard let base = buffer.baseAddress, !buffer.isEmpty else { throw .empty(file: file) }
        var start = 0
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { start = 3 }  // BOM

        // An upper bound on the number of data rows, from the lines and from the bytes
        // (a valid row is at least `shortestRow` bytes); one spare row as scratch space.
        var newlines = 0
        var scan = start
        while let found = memchr(base + scan, Int32(newline), buffer.count - scan) {
            newlines += 1
            scan = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base + 1
            if scan >= buffer.count { break }
        }
        let capacity = Swift.min(newlines + 1, (buffer.count - start) / shortestRow + 1) + 1
        let pixelsPerImage = rows * columns

        var pixels = [UInt8](repeating: 0, count: capacity * pixelsPerImage)
        var labels = [UInt8](repeating: 0, count: capacity)
        var imageCount = 0
        var failure: DataError?

        pixels.withUnsafeMutableBufferPointer { pixelBuffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                guard let pixelBase = pixelBuffer.baseAddress, let labelBase = labelBuffer.baseAddress else { return }
                var line = 0
                var position = start
                var headerChecked = false
                while position < buffer.count {
                    line += 1
                    var lineEnd = buffer.count
                    if let found = memchr(base + position, Int32(newline), buffer.count - position) {
                        lineEnd = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                    }
                    var contentEnd = lineEnd
                    if contentEnd > position && base[contentEnd - 1] == carriageReturn { contentEnd -= 1 }
                    defer { position = lineEnd + 1 }

                    if isBlank(base, position, contentEnd) { continue }
                    if !headerChecked {
                        headerChecked = true
                        if isHeader(base, position, contentEnd) { continue }
                    }
                    guard imageCount < capacity else {  // unreachable: the bound above holds
                        failure = .csvRowLength(file: file, line: line, expected: fieldsPerRow, actual: 0)
                        return
                    }
                    do throws(DataError) {
                        try parseRow(
                            base, position, contentEnd, file: file, line: line,
                            label: labelBase + imageCount, pixels: pixelBase + imageCount * pixelsPerImage
                        )
                    } catch {
                        failure = error
                        return
                    }
                    imageCount += 1
                }
            }
        }
        if let failure { throw failure }
        guard imageCount > 0 else { throw .empty(file: file) }
        pixels.removeSubrange(imageCount * pixelsPerImage ..< pixels.count)
        labels.removeSubrange(imageCount ..< labels.count)
        return ImageSet(count: imageCount, rows: rows, columns: columns, pixels: pixels, labels: labels)
    }

    /// Parses one data row in `base[from ..< to]`, writing its label and pixels.
    private static func parseRow(
        _ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int, file: String, line: Int,
        label: UnsafeMutablePointer<UInt8>, pixels: UnsafeMutablePointer<UInt8>
    ) throws(DataError) {
        var field = 0
        var i = from
        while true {
            let fieldStart = i
            while i < to && isSpace(base[i]) { i += 1 }
            var negative = false
            if i < to && (base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+")) {
                negative = base[i] == UInt8(ascii: "-")
                i += 1
            }
            var value = 0
            var digits = 0
            while i < to {
                let digit = base[i] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                // Saturate at 1,000,000 (only the range matters), so wrapping arithmetic cannot wrap.
                value = Swift.min(value &* 10 &+ Int(digit), 1_000_000)
                digits &+= 1
                i &+= 1
            }
            while i < to && isSpace(base[i]) { i += 1 }
            let wellFormed = digits > 0 && (i == to || base[i] == comma)
            while i < to && base[i] != comma { i += 1 }  // end of the field, whatever it holds

            if field < fieldsPerRow {
                guard wellFormed else {
                    throw .csvNotANumber(file: file, line: line, column: field + 1, text: text(base, fieldStart, i))
                }
                let limit = field == 0 ? 9 : 255
                guard !negative || value == 0, value <= limit else {
                    throw .csvValueOutOfRange(file: file, line: line, column: field + 1, value: text(base, fieldStart, i))
                }
                if field == 0 { label.pointee = UInt8(value) } else { pixels[field - 1] = UInt8(value) }
            }
            field += 1
            if i >= to { break }
            i += 1  // past the comma
        }
        guard field == fieldsPerRow else {
            throw .csvRowLength(file: file, line: line, expected: fieldsPerRow, actual: field)
        }
    }

    // MARK: - Helpers

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func isBlank(_ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to {
            if !isSpace(base[i]) { return false }
            i += 1
        }
        return true
    }

    /// A line is a header when its first field holds a letter or a quote (`label`, `"label"`).
    private static func isHeader(_ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to && base[i] != comma {
            let byte = base[i]
            if byte == quote || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte >= 0x80 {
                return true
            }
            i += 1
        }
        return false
    }

    /// The field `base[from ..< to]` as text for an error message: trimmed, at most 40 characters.
    private static func text(_ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int) -> String {
        var lower = from
        var upper = to
        while lower < upper && isSpace(base[lower]) { lower += 1 }
        while upper > lower && isSpace(base[upper - 1]) { upper -= 1 }
        let bytes = UnsafeBufferPointer(start: base + lower, count: Swift.min(upper - lower, 40))
        return String(decoding: bytes, as: UTF8.self)
    }
}
