import Foundation
import Testing

@testable import DigitsData

/// Inputs that would take unbounded memory, and line ends from other systems.
@Suite("Bounded inputs")
struct BoundedInputTests {
    // MARK: - Gzip stops at the declared size

    @Test func decompressStopsAtTheLimit() throws {
        let big = Compress.gzip(Data(count: 4_000_000))
        let error = dataError { () throws(DataError) in try Gzip.decompress(big, file: "bomb.gz", limit: 10_000) }
        #expect(error == .badGzip(file: "bomb.gz", reason: "decompresses to more than 10000 bytes, the most this file may hold"))
        // Within the limit, the same as without one.
        let small = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        #expect(try Gzip.decompress(Compress.gzip(small), file: "s.gz", limit: 5000) == small)
    }

    @Test func prefixInflatesOnlyWhatIsAsked() throws {
        let data = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        let prefix = try Gzip.decompressedPrefix(Compress.gzip(data), file: "p.gz", count: 16)
        #expect(prefix == data.prefix(16))
        let short = try Gzip.decompressedPrefix(Compress.gzip(Data([1, 2, 3])), file: "q.gz", count: 16)
        #expect(short == Data([1, 2, 3]))
    }

    /// An IDX images file whose header declares 50 images of 8×8 (3,200 bytes) but whose gzip
    /// data inflates to 20 MB: refused when the data passes the declared size.
    @Test func idxGzipBombIsRefused() throws {
        let (_, images, _) = Synthetic.set(count: 50, rows: 8, columns: 8)
        let bomb = Compress.gzip(images + Data(count: 20_000_000))
        try TempDirectory.with { dir in
            let url = try dir.write(bomb, to: "train-images-idx3-ubyte.gz")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            guard case .badGzip(let file, let reason) = error else {
                Issue.record("expected .badGzip, got \(String(describing: error))")
                return
            }
            #expect(file == url.path)
            #expect(reason.contains("more than \(16 + 3200 + 4096) bytes"))
        }
    }

    /// A few bytes past the declared size are still reported as trailing bytes, as in a raw file.
    @Test func idxGzipWithAFewExtraBytes() throws {
        let (_, images, _) = Synthetic.set(count: 5, rows: 4, columns: 4)
        try TempDirectory.with { dir in
            let url = try dir.write(Compress.gzip(images + Data(count: 10)), to: "x-images.gz")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .trailingBytes(file: url.path, expected: images.count, actual: images.count + 10))
        }
    }

    @Test func idxHeaderDeclaringTooMuchIsRefused() throws {
        let header = Data(Synthetic.word(IDX.imagesMagic) + Synthetic.word(1 << 31 - 1) + Synthetic.word(28) + Synthetic.word(28))
        try TempDirectory.with { dir in
            let url = try dir.write(Compress.gzip(header + Data(count: 100)), to: "huge-images.gz")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            guard case .tooLarge(let file, _, let limit) = error else {
                Issue.record("expected .tooLarge, got \(String(describing: error))")
                return
            }
            #expect(file == url.path && limit == IDX.maximumBytes)
            #expect(error?.description.contains("more than the limit") == true)
        }
    }

    /// A raw file larger than any data set is refused from its size, before it is read (a
    /// sparse file: its size is over the limit, its blocks take no disk).
    @Test func oversizedFileIsRefusedBeforeReading() throws {
        try TempDirectory.with { dir in
            let url = try dir.write(Data([0, 0, 8, 3]), to: "huge-images-idx3-ubyte")
            #expect(truncate(url.path, off_t(DataFile.maximumBytes) + 1) == 0)
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            #expect(error == .unreadable(file: url.path, reason: "the file has \(DataFile.maximumBytes + 1) bytes, more than the limit of \(DataFile.maximumBytes)"))
        }
    }

    // MARK: - CSV with CR-only line ends

    @Test func csvWithCarriageReturnsOnly() throws {
        let row = { (label: Int) in "\(label)," + Array(repeating: "0", count: 784).joined(separator: ",") }
        let text = (["label," + (0..<784).map { "p\($0)" }.joined(separator: ","), row(3), row(7)]).joined(separator: "\r") + "\r"
        try TempDirectory.with { dir in
            let url = try dir.write(text, to: "mac.csv")
            let set = try CSVDigits.read(at: url)
            #expect(set.count == 2)
            #expect(set.labels == [3, 7])
        }
    }
}
