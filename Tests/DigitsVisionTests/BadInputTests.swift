import Foundation
import Testing
@testable import DigitsVision

// MARK: - Bad input

@Suite("Bad input gives one clear typed error naming the file")
struct BadInputTests {
    /// Reads `bytes` from a file called `name` and returns the error (failing the test if none).
    func error(reading bytes: [UInt8], name: String) -> ImageError? {
        let folder = TemporaryFolder()
        let url = folder.write(bytes, to: name)
        do {
            _ = try ImageIO.read(url)
            Issue.record("\(name) was read without error")
            return nil
        } catch {
            #expect(error.file == url.path)
            #expect(error.description.hasPrefix(url.path + ": "))
            #expect(!error.description.contains("\n"))
            return error
        }
    }

    static func validPNG() -> [UInt8] {
        (try? ImageIO.pngData(patternImage(width: 60, height: 40, channels: 3))) ?? []
    }

    static func validJPEG(progressive: Bool) -> [UInt8] {
        (try? ImageIO.jpegData(patternImage(width: 64, height: 64, channels: 3), quality: 90, progressive: progressive)) ?? []
    }

    /// A PNG signature and IHDR chunk (correct CRC) for a `width`×`height` RGB image, then IEND.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IEND", [])
    }

    /// A JPEG start and a baseline start-of-frame for a `width`×`height` grey image.
    static func jpegHeader(width: UInt16, height: UInt16) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08,
         UInt8(height >> 8), UInt8(height & 255), UInt8(width >> 8), UInt8(width & 255),
         0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    @Test("a text file is not an image")
    func notAnImage() {
        #expect(error(reading: Array("hello, this is not a picture\n".utf8), name: "notes.png")?.kind == .notAnImage)
    }

    @Test("an empty file is empty")
    func empty() {
        let e = error(reading: [], name: "empty.jpg")
        #expect(e?.kind == .empty)
        #expect(e?.description.contains("empty") == true)
    }

    @Test("a PNG cut in half is truncated")
    func truncatedPNG() {
        let png = BadInputTests.validPNG()
        #expect(png.count > 100)
        #expect(error(reading: Array(png.prefix(png.count / 2)), name: "half.png")?.kind == .truncated)
        #expect(error(reading: Array(png.prefix(20)), name: "header.png")?.kind == .truncated)
        #expect(error(reading: Array(png.prefix(5)), name: "signature.png")?.kind == .truncated)
    }

    @Test("a JPEG cut in half is truncated", arguments: [false, true])
    func truncatedJPEG(progressive: Bool) {
        let jpeg = BadInputTests.validJPEG(progressive: progressive)
        #expect(jpeg.count > 100)
        #expect(error(reading: Array(jpeg.prefix(jpeg.count / 2)), name: "half.jpg")?.kind == .truncated)
        #expect(error(reading: Array(jpeg.prefix(40)), name: "start.jpg")?.kind == .truncated)
    }

    @Test("a PNG with a damaged IDAT checksum is damaged, not crashed on")
    func corruptPNG() {
        var png = BadInputTests.validPNG()
        // Find the IDAT chunk and flip a byte of its data.
        if let idat = (0..<(png.count - 4)).first(where: { png[$0..<($0 + 4)].elementsEqual("IDAT".utf8) }) {
            png[idat + 10] ^= 0xFF
        }
        #expect(error(reading: png, name: "damaged.png")?.kind == .corrupt)
    }

    @Test("headers over 50 megapixels are refused before decoding")
    func tooLarge() {
        let png = error(reading: BadInputTests.pngHeader(width: 10_000, height: 6_000), name: "huge.png")
        #expect(png?.kind == .tooLarge)
        #expect(png?.description.contains("50 megapixels") == true)
        #expect(error(reading: BadInputTests.pngHeader(width: 7072, height: 7072), name: "just-over.png")?.kind == .tooLarge)
        #expect(error(reading: BadInputTests.pngHeader(width: 2_000_000, height: 30), name: "wide.png")?.kind == .tooLarge)
        #expect(error(reading: BadInputTests.jpegHeader(width: 9000, height: 9000), name: "huge.jpg")?.kind == .tooLarge)
        // Just under the limit the header passes, and the missing pixel data is what fails.
        #expect(error(reading: BadInputTests.pngHeader(width: 7000, height: 7000), name: "under.png")?.kind != .tooLarge)
    }

    @Test("a missing file and a folder cannot be read")
    func unreadable() {
        let folder = TemporaryFolder()
        for url in [folder.file("missing.png"), folder.url] {
            do {
                _ = try ImageIO.read(url)
                Issue.record("read \(url.path)")
            } catch {
                #expect(error.kind == .unreadable)
                #expect(error.description.contains(url.lastPathComponent))
            }
        }
    }

    @Test("a blank page has no ink", arguments: ["white", "noisy", "gradient", "jpeg", "dark"])
    func blankPage(kind: String) throws {
        var random = SeededRandom(seed: 5)
        var pixels = [UInt8](repeating: 0, count: 120 * 90)
        for i in 0..<pixels.count {
            let x = Double(i % 120), y = Double(i / 120)
            switch kind {
            case "white", "jpeg": pixels[i] = 250
            case "noisy": pixels[i] = UInt8(max(0, min(255, 230 + 6 * random.gaussian())))
            case "gradient": pixels[i] = UInt8(180 + 40 * x / 120 + 20 * y / 90)
            default: pixels[i] = 12
            }
        }
        let page = Image(width: 120, height: 90, channels: 1, pixels: pixels)!
        let folder = TemporaryFolder()
        let url = folder.file("page.\(kind == "jpeg" ? "jpg" : "png")")
        if kind == "jpeg" { try ImageIO.writeJPEG(page, to: url, quality: 70) } else { try ImageIO.writePNG(page, to: url) }
        do {
            _ = try DigitPreparation.prepare(contentsOf: url)
            Issue.record("a blank \(kind) page gave a digit")
        } catch {
            #expect(error.kind == .blank)
            #expect(error.description.hasPrefix(url.path + ": no ink found"))
        }
    }

    @Test("a fully transparent image is blank too")
    func transparent() {
        let image = Image(width: 40, height: 40, channels: 4, fill: [0, 0, 0, 0])
        do {
            _ = try DigitPreparation.prepare(image, source: "clear.png")
            Issue.record("a transparent image gave a digit")
        } catch {
            #expect(error.kind == .blank && error.file == "clear.png")
        }
    }
}
