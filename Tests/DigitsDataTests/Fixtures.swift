import CZlib
import Foundation
import Testing

@testable import DigitsData

// MARK: - Temporary directories

/// A fresh, empty directory under the system temporary directory.
struct TempDirectory {
    let url: URL

    /// Runs `body` with a new temporary directory, removing it afterwards.
    static func with<T>(_ body: (TempDirectory) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("DigitsDataTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(TempDirectory(url: url))
    }

    /// Writes `data` to `name` in this directory and returns its URL.
    @discardableResult
    func write(_ data: Data, to name: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try data.write(to: file)
        return file
    }

    @discardableResult
    func write(_ text: String, to name: String) throws -> URL {
        try write(Data(text.utf8), to: name)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

// MARK: - Synthetic IDX files

enum Synthetic {
    /// A big-endian 32-bit word.
    static func word(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Deterministic pixels for `count` images of `rows`×`columns`.
    static func pixels(count: Int, rows: Int, columns: Int, seed: Int = 0) -> [UInt8] {
        (0 ..< count * rows * columns).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seed &* 13) }
    }

    /// Labels `0, 1, ..., 9, 0, ...` shifted by `seed`.
    static func labels(count: Int, seed: Int = 0) -> [UInt8] {
        (0 ..< count).map { UInt8(($0 + seed) % 10) }
    }

    /// An IDX images file. `headerCount` lets a test lie about the count.
    static func imagesFile(pixels: [UInt8], count: Int, rows: Int, columns: Int, magic: UInt32 = IDX.imagesMagic) -> Data {
        Data(word(magic) + word(UInt32(count)) + word(UInt32(rows)) + word(UInt32(columns)) + pixels)
    }

    /// An IDX labels file.
    static func labelsFile(_ labels: [UInt8], count: Int? = nil, magic: UInt32 = IDX.labelsMagic) -> Data {
        Data(word(magic) + word(UInt32(count ?? labels.count)) + labels)
    }

    /// A small consistent set: `count` images of `rows`×`columns`, as an ImageSet and as IDX files.
    static func set(count: Int = 12, rows: Int = 4, columns: Int = 3, seed: Int = 0) -> (set: ImageSet, images: Data, labels: Data) {
        let pixels = pixels(count: count, rows: rows, columns: columns, seed: seed)
        let labels = labels(count: count, seed: seed)
        let set = ImageSet(count: count, rows: rows, columns: columns, pixels: pixels, labels: labels)
        return (set, imagesFile(pixels: pixels, count: count, rows: rows, columns: columns), labelsFile(labels))
    }
}

// MARK: - Gzip compression (test side, through zlib's deflate)

enum Compress {
    /// `data` as a gzip member (deflate with windowBits 15 + 16 writes the gzip header and trailer).
    static func gzip(_ data: Data) -> Data {
        var stream = z_stream()
        let initialised = deflateInit2_(
            &stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size)
        )
        guard initialised == Z_OK else { return Data() }
        defer { deflateEnd(&stream) }
        var input = [UInt8](data)
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                let code = deflate(&stream, Z_FINISH)
                return code == Z_STREAM_END ? outBuffer.count - Int(stream.avail_out) : 0
            }
        }
        return Data(output[0 ..< produced])
    }
}

// MARK: - Expectations on errors

/// Runs `body`, expecting it to throw a ``DataError``, and returns it (nil, with a recorded issue, otherwise).
func dataError<T>(_ body: () throws(DataError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> DataError? {
    do {
        _ = try body()
        Issue.record("expected a DataError, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Checks a description is one line and names `file` (and `line:` for CSV).
func expectDescription(
    _ error: DataError?, names file: URL, line: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error else { return }
    let text = error.description
    #expect(!text.contains("\n"), "description spans lines: \(text)", sourceLocation: sourceLocation)
    if let line {
        #expect(text.hasPrefix("\(file.path):\(line): "), "no file:line in: \(text)", sourceLocation: sourceLocation)
    } else {
        #expect(text.contains(file.path), "file not named in: \(text)", sourceLocation: sourceLocation)
    }
}
