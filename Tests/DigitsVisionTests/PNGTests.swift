import Foundation
import Testing
@testable import DigitsVision

// MARK: - PNG round trips

@Suite("PNG through libpng")
struct PNGTests {
    /// One PNG flavour to write and read back.
    struct Flavour: Sendable, CustomTestStringConvertible {
        var type: ImageIO.PNGColorType
        var depth: Int
        var interlaced: Bool
        var testDescription: String { "\(type) \(depth)-bit\(interlaced ? " Adam7" : "")" }
    }

    /// Every colour type and bit depth PNG allows; 2- and 8-bit ones also interlaced.
    static let flavours: [Flavour] = ImageIO.PNGColorType.allCases.flatMap { type in
        type.bitDepths.flatMap { depth in
            [Flavour(type: type, depth: depth, interlaced: false)]
                + (depth == 8 || depth == 2 ? [Flavour(type: type, depth: depth, interlaced: true)] : [])
        }
    }

    @Test("every colour type and bit depth survives a write and read", arguments: PNGTests.flavours)
    func roundTrip(flavour: Flavour) throws {
        let type = flavour.type, depth = flavour.depth, interlaced = flavour.interlaced
        let width = 13, height = 7  // odd sizes exercise bit packing and Adam7 passes
        let maxValue = (1 << depth) - 1
        let channels = type.channels
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        let paletteSize = type == .palette ? min(1 << depth, 5) : 0
        for i in 0..<samples.count {
            samples[i] = type == .palette ? UInt16(i * 7 % paletteSize) : UInt16((i * 2654435761) % (maxValue + 1))
        }
        var palette: [UInt8] = []
        var paletteAlpha: [UInt8] = []
        for entry in 0..<paletteSize {
            palette += [UInt8(entry * 50), UInt8(255 - entry * 40), UInt8(entry * 17 + 3)]
            if depth >= 2 { paletteAlpha.append(UInt8(255 - entry * 60)) }
        }
        let data = try ImageIO.pngData(samples: samples, width: width, height: height, colorType: type, bitDepth: depth,
                                       palette: palette, paletteAlpha: paletteAlpha, interlaced: interlaced)

        let folder = TemporaryFolder()
        let url = folder.write(data, to: "flavour.png")
        let (image, info) = try ImageIO.readWithInfo(url)
        #expect(info.format == .png)
        #expect(info.bitDepth == depth)
        #expect(info.colorType == Int(type.rawValue))
        #expect(info.interlacedOrProgressive == interlaced)
        #expect(image.width == width && image.height == height)

        // What the 8-bit decode should hold.
        var expected: [UInt8] = []
        var expectedChannels = channels
        if type == .palette {
            expectedChannels = paletteAlpha.isEmpty ? 3 : 4
            for s in samples {
                expected += palette[Int(s) * 3..<Int(s) * 3 + 3]
                if !paletteAlpha.isEmpty { expected.append(paletteAlpha[Int(s)]) }
            }
        } else {
            expected = samples.map { UInt8((Double($0) * 255 / Double(maxValue)).rounded()) }
        }
        #expect(image.channels == expectedChannels)
        #expect(image.pixels.count == expected.count)
        let worst = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= (depth == 16 ? 1 : 0), "largest difference \(worst)")
    }

    @Test("writePNG and read give back the same pixels for 1 to 4 channels", arguments: 1...4)
    func writeAndRead(channels: Int) throws {
        let folder = TemporaryFolder()
        let image = patternImage(width: 31, height: 17, channels: channels)
        let url = folder.file("pattern.png")
        try ImageIO.writePNG(image, to: url)
        #expect(try ImageIO.read(url) == image)
    }

    @Test("writing is atomic: it replaces an existing file and leaves no temporary files")
    func atomicWrite() throws {
        let folder = TemporaryFolder()
        let url = folder.file("picture.png")
        try ImageIO.writePNG(patternImage(width: 5, height: 5, channels: 1), to: url)
        let second = patternImage(width: 9, height: 4, channels: 3)
        try ImageIO.writePNG(second, to: url)
        #expect(try ImageIO.read(url) == second)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(names == ["picture.png"])
    }

    @Test("writing into a missing folder is a writeFailed error naming the file")
    func writeIntoMissingFolder() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/out.png")
        do {
            try ImageIO.writePNG(patternImage(width: 2, height: 2, channels: 1), to: url)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .writeFailed)
            #expect(error.description.contains("out.png"))
        }
    }

    @Test("samples out of range for the bit depth are refused")
    func outOfRangeSamples() {
        #expect(throws: ImageError.self) {
            try ImageIO.pngData(samples: [0, 1, 2, 4], width: 2, height: 2, colorType: .grey, bitDepth: 2)
        }
        #expect(throws: ImageError.self) {
            try ImageIO.pngData(samples: [0, 1, 2, 3], width: 2, height: 2, colorType: .palette, bitDepth: 2, palette: [0, 0, 0, 9, 9, 9])
        }
        #expect(throws: ImageError.self) {
            try ImageIO.pngData(samples: [0, 1, 2], width: 2, height: 2, colorType: .grey, bitDepth: 8)
        }
    }
}
