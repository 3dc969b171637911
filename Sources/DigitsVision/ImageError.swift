// MARK: - ImageError

/// Why an image could not be read, written or prepared, always naming the file.
///
/// `description` is one line meant for people, e.g.
/// `photo.jpg: truncated image: the data ends before the image does`.
public struct ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the file.
    public enum Kind: String, Equatable, Sendable, CaseIterable {
        /// The file could not be opened or read (missing, a folder, no permission).
        case unreadable
        /// The file has no bytes.
        case empty
        /// The bytes are neither PNG nor JPEG.
        case notAnImage
        /// The file ends before the image does.
        case truncated
        /// The codec rejected the data (bad checksum, inconsistent header, ...).
        case corrupt
        /// More pixels than `ImageIO.maximumPixels`; refused before decoding.
        case tooLarge
        /// More bytes than `ImageIO.maximumFileBytes`; refused before reading.
        case fileTooLarge
        /// A valid file of a kind that is not supported (e.g. an unusual JPEG colour space).
        case unsupported
        /// A page with no ink on it: nothing to read as a digit.
        case blank
        /// Writing the output failed.
        case writeFailed
    }

    /// The file (or other source name) concerned.
    public var file: String
    /// What went wrong.
    public var kind: Kind
    /// Details from the codec or the system, possibly empty.
    public var detail: String

    /// An error about `file`.
    public init(file: String, kind: Kind, detail: String = "") {
        self.file = file
        self.kind = kind
        self.detail = detail
    }

    /// A short phrase for `kind`.
    public var summary: String {
        switch kind {
        case .unreadable: return "cannot be read"
        case .empty: return "empty file"
        case .notAnImage: return "not an image (neither PNG nor JPEG)"
        case .truncated: return "truncated image"
        case .corrupt: return "damaged image"
        #if hasFeature(Embedded)  // the WebAssembly module (Wasm/) reads no files
        case .tooLarge: return "image too large"
        case .fileTooLarge: return "file too large"
        #else
        case .tooLarge: return "image too large (over \(ImageIO.maximumPixels / 1_000_000) megapixels)"
        case .fileTooLarge: return "file too large (over \(ImageIO.maximumFileBytes / 1_048_576) MB)"
        #endif
        case .unsupported: return "unsupported image"
        case .blank: return "no ink found (a blank page?)"
        case .writeFailed: return "cannot be written"
        }
    }

    /// `file: summary: detail` on one line.
    public var description: String {
        let line = detail.isEmpty ? "\(file): \(summary)" : "\(file): \(summary): \(detail)"
        return String(line.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
