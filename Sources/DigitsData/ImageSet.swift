// MARK: - ImageSet

/// A set of labelled greyscale images.
///
/// Pixels are stored row-major as `UInt8` (0 = background, 255 = ink for MNIST),
/// one image after another, so image `i` occupies
/// `pixels[i * rows * columns ..< (i + 1) * rows * columns]`.
/// The loaders in this module (``IDX``, ``CSVDigits``, ``MNIST``) only ever produce
/// sets whose labels are in `0...9`.
public struct ImageSet: Sendable, Equatable {
    /// Number of images (and labels).
    public let count: Int
    /// Height of every image, in pixels.
    public let rows: Int
    /// Width of every image, in pixels.
    public let columns: Int
    /// All pixels, `count * rows * columns` bytes, row-major, image after image.
    public let pixels: [UInt8]
    /// One label per image.
    public let labels: [UInt8]

    /// Creates a set from already-validated storage.
    ///
    /// - Precondition: `count`, `rows` and `columns` are non-negative,
    ///   `pixels.count == count * rows * columns` and `labels.count == count`.
    ///   (This is a programming error, not an input error: the file readers
    ///   validate untrusted input and throw ``DataError`` before calling this.)
    public init(count: Int, rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(count >= 0 && rows >= 0 && columns >= 0, "ImageSet: negative size")
        precondition(labels.count == count, "ImageSet: \(labels.count) labels for \(count) images")
        let size = rows.multipliedReportingOverflow(by: columns)
        let total = size.partialValue.multipliedReportingOverflow(by: count)
        precondition(
            !size.overflow && !total.overflow && pixels.count == total.partialValue,
            "ImageSet: \(pixels.count) pixels for \(count) images of \(rows)×\(columns)"
        )
        self.count = count
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }

    // MARK: - Access

    /// Number of pixels in one image (`rows * columns`).
    public var imageSize: Int { rows * columns }

    /// `true` when the set holds no images.
    public var isEmpty: Bool { count == 0 }

    /// The pixels of image `index`, row-major.
    ///
    /// - Precondition: `0 <= index < count`.
    public func image(at index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "ImageSet: image index \(index) out of range 0..<\(count)")
        let start = index * imageSize
        return pixels[start ..< start + imageSize]
    }

    /// The label of image `index`.
    ///
    /// - Precondition: `0 <= index < count`.
    public func label(at index: Int) -> UInt8 {
        labels[index]
    }

    /// How many images carry each label `0...9` (index = label).
    public var labelCounts: [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for label in labels where label < 10 { counts[Int(label)] += 1 }
        return counts
    }

    // MARK: - Subsets

    /// The first `n` images (all of them if `n >= count`; none if `n <= 0`).
    public func prefix(_ n: Int) -> ImageSet {
        let kept = Swift.max(0, Swift.min(n, count))
        return ImageSet(
            count: kept, rows: rows, columns: columns,
            pixels: Array(pixels[0 ..< kept * imageSize]),
            labels: Array(labels[0 ..< kept])
        )
    }
}
