import Foundation

// MARK: - DataFile

/// Reads a whole file into memory, with errors as ``DataError``.
enum DataFile {
    /// The most bytes a data file may hold, stored or decompressed (4 GiB): more than any
    /// digit set (MNIST is 55 MB, EMNIST's largest about 700 MB), less than memory runs out at.
    static let maximumBytes = 1 << 32

    /// The path used to name `url` in error messages.
    static func name(_ url: URL) -> String {
        url.isFileURL ? url.path : url.absoluteString
    }

    /// The file's bytes exactly as stored.
    ///
    /// - Throws: ``DataError/fileNotFound(file:)``, ``DataError/unreadable(file:reason:)``
    ///   or ``DataError/empty(file:)``.
    static func read(_ url: URL, limit: Int = maximumBytes) throws(DataError) -> Data {
        let file = name(url)
        guard url.isFileURL else { throw .unreadable(file: file, reason: "not a local file URL") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .fileNotFound(file: file)
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: file, reason: "is a directory") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber,
           size.int64Value > Int64(limit) {
            throw .unreadable(file: file, reason: "the file has \(size.int64Value) bytes, more than the limit of \(limit)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(file: file, reason: Self.reason(error))
        }
        guard !data.isEmpty else { throw .empty(file: file) }
        return data
    }

    /// The file's contents, gunzipped when the file starts with the gzip magic bytes
    /// (whatever its name).
    ///
    /// - Throws: as ``read(_:)``, plus ``DataError/badGzip(file:reason:)``, and
    ///   ``DataError/empty(file:)`` when a `.gz` file decompresses to nothing.
    static func readDecompressed(_ url: URL, limit: Int = maximumBytes) throws(DataError) -> Data {
        let stored = try read(url, limit: limit)
        guard Gzip.isCompressed(stored) else { return stored }
        let data = try Gzip.decompress(stored, file: name(url), limit: limit)
        guard !data.isEmpty else { throw .empty(file: name(url)) }
        return data
    }

    /// The file's contents, gunzipped when compressed, inflating no more than the size that
    /// `declaredSize` computes from the first `headerSize` decompressed bytes (plus `slack`, so
    /// that a few extra bytes are still reported as trailing bytes by the caller).
    ///
    /// - Throws: as ``readDecompressed(_:)``, and ``DataError/badGzip(file:reason:)`` when the
    ///   data inflates to more than declared.
    static func readDecompressed(_ url: URL, headerSize: Int, slack: Int = 4096,
                                 declaredSize: (Data) throws(DataError) -> Int) throws(DataError) -> Data {
        let stored = try read(url)
        guard Gzip.isCompressed(stored) else { return stored }
        let file = name(url)
        let header = try Gzip.decompressedPrefix(stored, file: file, count: headerSize)
        guard !header.isEmpty else { throw .empty(file: file) }
        let declared = try declaredSize(header)
        let (limit, overflow) = declared.addingReportingOverflow(slack)
        let data = try Gzip.decompress(stored, file: file, limit: overflow ? .max : limit)
        guard !data.isEmpty else { throw .empty(file: file) }
        return data
    }

    /// A one-line reason from a Foundation error.
    private static func reason(_ error: any Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
