import Foundation

// MARK: - IDX

/// Reader for the IDX format of the MNIST distribution (LeCun et al.).
///
/// An IDX file is a big-endian header followed by raw bytes:
/// - images: magic `2051` (`0x00000803`), item count, rows, columns, then
///   `count * rows * columns` pixels;
/// - labels: magic `2049` (`0x00000801`), item count, then `count` labels.
///
/// Files may be gzip-compressed; compression is detected from the content (bytes `1f 8b`),
/// not the name.
public enum IDX {
    /// Magic number of an IDX file of unsigned-byte images (3 dimensions).
    public static let imagesMagic: UInt32 = 2051
    /// Magic number of an IDX file of unsigned-byte labels (1 dimension).
    public static let labelsMagic: UInt32 = 2049
    /// The largest data a header may declare (2 GiB): EMNIST's largest set is about 700 MB.
    public static let maximumBytes = 1 << 31

    // MARK: - Reading

    /// Reads an IDX images file (raw or gzip).
    ///
    /// - Throws: ``DataError`` if the file is missing, unreadable, empty, has the wrong
    ///   magic number, unusable dimensions, or is shorter or longer than its header says.
    public static func readImages(at url: URL) throws(DataError) -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        let file = DataFile.name(url)
        let data = try DataFile.readDecompressed(url, headerSize: 16) { (header) throws(DataError) in
            try declaredSize(header, file: file, magic: imagesMagic, dimensions: 3)
        }
        let header = try readHeader(data, file: file, magic: imagesMagic, dimensions: 3)
        let (count, rows, columns) = (header[0], header[1], header[2])
        let size = rows.multipliedReportingOverflow(by: columns)
        let total = size.partialValue.multipliedReportingOverflow(by: count)
        let headerSize = 16
        guard rows > 0, columns > 0, !size.overflow, !total.overflow,
              total.partialValue <= Int.max - headerSize
        else {
            throw .badDimensions(file: file, count: count, rows: rows, columns: columns)
        }
        let body = try payload(data, file: file, headerSize: headerSize, length: total.partialValue)
        return (count, rows, columns, body)
    }

    /// Reads an IDX labels file (raw or gzip). The values are not range-checked here;
    /// ``loadPair(images:labels:)`` checks that they are digits.
    ///
    /// - Throws: ``DataError`` if the file is missing, unreadable, empty, has the wrong
    ///   magic number, or is shorter or longer than its header says.
    public static func readLabels(at url: URL) throws(DataError) -> [UInt8] {
        let file = DataFile.name(url)
        let data = try DataFile.readDecompressed(url, headerSize: 8) { (header) throws(DataError) in
            try declaredSize(header, file: file, magic: labelsMagic, dimensions: 1)
        }
        let header = try readHeader(data, file: file, magic: labelsMagic, dimensions: 1)
        return try payload(data, file: file, headerSize: 8, length: header[0])
    }

    /// Reads an images file and its labels file into one ``ImageSet``.
    ///
    /// - Throws: anything ``readImages(at:)`` or ``readLabels(at:)`` throws, plus
    ///   ``DataError/countMismatch(images:imageCount:labels:labelCount:)`` when the two
    ///   disagree on the count and ``DataError/labelOutOfRange(file:index:value:)`` for a
    ///   label that is not a digit.
    public static func loadPair(images: URL, labels: URL) throws(DataError) -> ImageSet {
        let read = try readImages(at: images)
        let labelValues = try readLabels(at: labels)
        guard labelValues.count == read.count else {
            throw .countMismatch(
                images: DataFile.name(images), imageCount: read.count,
                labels: DataFile.name(labels), labelCount: labelValues.count
            )
        }
        if let index = labelValues.firstIndex(where: { $0 > 9 }) {
            throw .labelOutOfRange(file: DataFile.name(labels), index: index, value: labelValues[index])
        }
        return ImageSet(count: read.count, rows: read.rows, columns: read.columns, pixels: read.pixels, labels: labelValues)
    }

    // MARK: - Parsing

    /// The file size a header declares (header included), checked against ``maximumBytes``
    /// with overflow-safe arithmetic; a header cut short declares only itself.
    static func declaredSize(_ header: Data, file: String, magic: UInt32, dimensions: Int) throws(DataError) -> Int {
        let headerSize = 4 * (1 + dimensions)
        guard header.count >= headerSize else { return header.count }
        let sizes = try readHeader(header, file: file, magic: magic, dimensions: dimensions)
        var total = 1
        for size in sizes {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maximumBytes else {
                throw .tooLarge(file: file, declared: overflow ? .max : product, limit: maximumBytes)
            }
            total = product
        }
        return headerSize + total
    }

    /// Checks the magic number and returns the `dimensions` sizes that follow it.
    private static func readHeader(_ data: Data, file: String, magic: UInt32, dimensions: Int) throws(DataError) -> [Int] {
        let headerSize = 4 * (1 + dimensions)
        if data.count >= 4 {
            let found = bigEndianWord(data, at: 0)
            guard found == magic else { throw .wrongMagic(file: file, expected: magic, actual: found) }
        }
        guard data.count >= headerSize else {
            throw .truncated(file: file, expected: headerSize, actual: data.count)
        }
        return (1 ... dimensions).map { Int(bigEndianWord(data, at: 4 * $0)) }
    }

    /// The `length` bytes after the header, checking the file holds exactly that many.
    private static func payload(_ data: Data, file: String, headerSize: Int, length: Int) throws(DataError) -> [UInt8] {
        let expected = headerSize + length
        guard data.count >= expected else { throw .truncated(file: file, expected: expected, actual: data.count) }
        guard data.count == expected else { throw .trailingBytes(file: file, expected: expected, actual: data.count) }
        let start = data.startIndex + headerSize
        return [UInt8](data[start ..< start + length])
    }

    /// The big-endian 32-bit word at byte `offset` (the caller checks the length).
    private static func bigEndianWord(_ data: Data, at offset: Int) -> UInt32 {
        let i = data.startIndex + offset
        return UInt32(data[i]) << 24 | UInt32(data[i + 1]) << 16 | UInt32(data[i + 2]) << 8 | UInt32(data[i + 3])
    }
}
