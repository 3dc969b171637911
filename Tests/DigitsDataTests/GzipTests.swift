import Foundation
import Testing

@testable import DigitsData

// MARK: - Gzip

@Suite("Gzip")
struct GzipTests {
    @Test(arguments: [0, 1, 1000, 300_000])
    func roundTrip(size: Int) throws {
        let original = Data((0 ..< size).map { UInt8(truncatingIfNeeded: $0 * 31 / 7) })
        let compressed = Compress.gzip(original)
        #expect(Gzip.isCompressed(compressed))
        #expect(try Gzip.decompress(compressed, file: "x.gz") == original)
    }

    /// Concatenated members (as `cat a.gz b.gz`) decompress to the concatenation.
    @Test func multipleMembers() throws {
        let a = Data(repeating: 1, count: 5000)
        let b = Data((0 ..< 7000).map { UInt8(truncatingIfNeeded: $0) })
        #expect(try Gzip.decompress(Compress.gzip(a) + Compress.gzip(b), file: "ab.gz") == a + b)
    }

    @Test func zeroPaddingIsIgnored() throws {
        let a = Data(repeating: 42, count: 100)
        #expect(try Gzip.decompress(Compress.gzip(a) + Data(count: 512), file: "pad.gz") == a)
    }

    @Test func notGzip() {
        #expect(!Gzip.isCompressed(Data([0x1F])))
        #expect(!Gzip.isCompressed(Data("hello".utf8)))
        #expect(throws: DataError.self) { try Gzip.decompress(Data("hello".utf8), file: "h.gz") }
    }

    @Test func emptyInput() {
        #expect(throws: DataError.badGzip(file: "e.gz", reason: "no data")) {
            try Gzip.decompress(Data(), file: "e.gz")
        }
    }

    @Test func trailingGarbage() {
        let data = Compress.gzip(Data(repeating: 7, count: 100)) + Data("junk".utf8)
        let error = dataError { () throws(DataError) in try Gzip.decompress(data, file: "g.gz") }
        #expect(error == .badGzip(file: "g.gz", reason: "4 bytes of trailing garbage after the compressed data"))
    }

    // MARK: - Bad gzip files, through the IDX reader

    @Test func truncatedGzipFile() throws {
        let (_, images, _) = Synthetic.set(count: 50, rows: 8, columns: 8)
        let compressed = Compress.gzip(images)
        try TempDirectory.with { dir in
            let url = try dir.write(compressed.prefix(compressed.count / 2), to: "train-images-idx3-ubyte.gz")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            guard case .badGzip(let file, let reason) = error else {
                Issue.record("expected .badGzip, got \(String(describing: error))")
                return
            }
            #expect(file == url.path)
            #expect(reason.contains("truncated"))
            expectDescription(error, names: url)
        }
    }

    @Test func corruptGzipFile() throws {
        let (_, images, _) = Synthetic.set(count: 50, rows: 8, columns: 8)
        var compressed = [UInt8](Compress.gzip(images))
        for i in 12 ..< compressed.count - 8 { compressed[i] ^= 0x5A }  // scramble the deflate data
        try TempDirectory.with { dir in
            let url = try dir.write(Data(compressed), to: "images.gz")
            let error = dataError { () throws(DataError) in try IDX.readImages(at: url) }
            guard case .badGzip(let file, _) = error else {
                Issue.record("expected .badGzip, got \(String(describing: error))")
                return
            }
            #expect(file == url.path)
            expectDescription(error, names: url)
        }
    }

    /// A flipped byte in the trailer is caught by the CRC check.
    @Test func badChecksum() throws {
        var compressed = [UInt8](Compress.gzip(Data(repeating: 3, count: 1000)))
        compressed[compressed.count - 6] ^= 0xFF
        let error = dataError { () throws(DataError) in try Gzip.decompress(Data(compressed), file: "crc.gz") }
        guard case .badGzip(let file, _) = error else {
            Issue.record("expected .badGzip, got \(String(describing: error))")
            return
        }
        #expect(file == "crc.gz")
    }
}
