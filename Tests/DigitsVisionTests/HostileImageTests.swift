import Foundation
import Testing
@testable import DigitsVision

/// Pictures that would be read as a confident digit though they hold none, and writes that
/// must not replace what they should not or leave temporary files behind.
@Suite("Hostile images")
struct HostileImageTests {
    // MARK: - Corrupt JPEG data is an error

    /// The offset of the first start-of-frame marker's segment (after `FF Cx`).
    static func startOfFrame(_ jpeg: [UInt8]) -> Int? {
        var i = 2
        while i + 9 < jpeg.count {
            guard jpeg[i] == 0xFF else { return nil }
            let marker = jpeg[i + 1]
            if marker == 0xC0 || marker == 0xC2 { return i + 2 }
            i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3]))
        }
        return nil
    }

    @Test("a JPEG cut short and given a false end marker is refused", arguments: [false, true])
    func falseEndMarker(progressive: Bool) {
        let jpeg = BadInputTests.validJPEG(progressive: progressive)
        let forged = Array(jpeg.prefix(jpeg.count * 2 / 3)) + [0xFF, 0xD9]
        #expect(throws: ImageError.self) { try ImageIO.decode(forged, name: "forged.jpg") }
    }

    @Test("a JPEG header claiming more pixels than its data holds is refused")
    func headerLargerThanData() throws {
        var jpeg = BadInputTests.validJPEG(progressive: false)
        let sof = try #require(Self.startOfFrame(jpeg))
        // Height and width (big-endian) follow the length (2 bytes) and precision (1 byte): 64 → 640.
        jpeg[sof + 3] = 0x02; jpeg[sof + 4] = 0x80
        jpeg[sof + 5] = 0x02; jpeg[sof + 6] = 0x80
        let error = #expect(throws: ImageError.self) { try ImageIO.decode(jpeg, name: "claims.jpg") }
        #expect(error?.kind == .corrupt || error?.kind == .truncated)
        // The untouched file still decodes.
        #expect(try ImageIO.decode(BadInputTests.validJPEG(progressive: false), name: "ok.jpg").width == 64)
    }

    // MARK: - Too little ink, or ink of no digit's shape

    @Test("one dark pixel on a white page is too little ink")
    func onePixel() throws {
        var page = Image(width: 300, height: 300, channels: 1, fill: [255])
        page.pixels[150 * 300 + 150] = 0
        let digit = try DigitPreparation.analyse(page)
        #expect(digit.warnings.count == 1)
        #expect(digit.warnings.first?.contains("too little ink") == true)
    }

    @Test("a long thin line is no digit's shape")
    func line() throws {
        var strip = Image(width: 20_000, height: 9, channels: 1, fill: [255])
        for x in 500..<19_500 { strip.pixels[4 * 20_000 + x] = 0 }
        let digit = try DigitPreparation.analyse(strip)
        #expect(digit.warnings.count == 1)
        #expect(digit.warnings.first?.contains("wider than tall") == true)
    }

    @Test("handwritten digits carry no ink warning")
    func realDigits() throws {
        for sample in SyntheticHandwriting.makeSet(count: 20, seed: 5) {
            let digit = try DigitPreparation.analyse(sample.image)
            #expect(digit.warnings.isEmpty, "digit \(sample.label): \(digit.warnings)")
        }
    }

    // MARK: - Writing

    @Test("writing refuses a directory, a symbolic link and a FIFO, and leaves no temporary file")
    func refusesNonRegularTargets() throws {
        let folder = TemporaryFolder()
        let image = Image(width: 4, height: 4, channels: 1, fill: [0])
        try FileManager.default.createDirectory(at: folder.file("dir.png"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: folder.file("link.png").path, withDestinationPath: "/dev/null")
        #expect(mkfifo(folder.file("fifo.png").path, 0o644) == 0)
        for (name, mentions) in [("dir.png", "directory"), ("link.png", "symbolic link"), ("fifo.png", "not a regular file"),
                                 ("out/", "directory"), ("missing/x.png", "does not exist")] {
            let error = #expect(throws: ImageError.self) { try ImageIO.writePNG(image, to: folder.file(name)) }
            #expect(error?.kind == .writeFailed)
            #expect(error?.description.contains(mentions) == true, "\(name): \(error?.description ?? "")")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(!left.contains { $0.hasSuffix(".tmp") }, "\(left)")
        // The symbolic link still points where it did.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder.file("link.png").path) == "/dev/null")
    }

    @Test("a name too long for the file system fails with one line and leaves nothing")
    func nameTooLong() throws {
        let folder = TemporaryFolder()
        let name = String(repeating: "n", count: 250) + ".png"
        let error = #expect(throws: ImageError.self) {
            try ImageIO.writePNG(Image(width: 2, height: 2, channels: 1, fill: [0]), to: folder.file(name))
        }
        #expect(error?.kind == .writeFailed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    @Test("a file over the size limit names the file-size limit, not the pixel limit")
    func fileTooLargeMessage() throws {
        let folder = TemporaryFolder()
        let url = folder.write([0x89, 0x50], to: "big.png")
        // A sparse file: its size is over the limit, its blocks take no disk.
        #expect(truncate(url.path, off_t(ImageIO.maximumFileBytes) + 1_048_576) == 0)
        let error = #expect(throws: ImageError.self) { try ImageIO.read(url) }
        #expect(error?.kind == .fileTooLarge)
        #expect(error?.description == "\(url.path): file too large (over 1024 MB): the file has 1025 MB")
        #expect(error?.description.contains("megapixels") == false)
    }
}
