import Foundation
import Testing
@testable import DigitsVision

// MARK: - JPEG

@Suite("JPEG through libjpeg")
struct JPEGTests {
    @Test("baseline and progressive, grey and colour, decode close to the original",
          arguments: [(1, false), (1, true), (3, false), (3, true)])
    func decode(channels: Int, progressive: Bool) throws {
        let image = patternImage(width: 64, height: 48, channels: channels)
        let data = try ImageIO.jpegData(image, quality: 92, progressive: progressive)
        let folder = TemporaryFolder()
        let url = folder.write(data, to: "photo.jpg")
        let (decoded, info) = try ImageIO.readWithInfo(url)
        #expect(info.format == .jpeg)
        #expect(info.interlacedOrProgressive == progressive)
        #expect(info.colorType == channels)
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.channels == channels)
        #expect(meanAbsoluteDifference(decoded.pixels, image.pixels) < 10)
    }

    @Test("alpha is composited over white before JPEG encoding")
    func alphaOverWhite() throws {
        var pixels: [UInt8] = []
        for _ in 0..<(16 * 16) { pixels += [0, 0, 0, 0] }  // fully transparent black
        let image = Image(width: 16, height: 16, channels: 4, pixels: pixels)!
        let decoded = try ImageIO.decode(try ImageIO.jpegData(image), name: "white.jpg")
        #expect(decoded.channels == 3)
        #expect(decoded.pixels.allSatisfy { $0 > 245 })
    }

    @Test("JPEGs written by writeJPEG read back")
    func writeJPEG() throws {
        let folder = TemporaryFolder()
        let url = folder.file("x.jpg")
        try ImageIO.writeJPEG(patternImage(width: 20, height: 10, channels: 3), to: url, quality: 80, progressive: true)
        let (image, info) = try ImageIO.readWithInfo(url)
        #expect(image.width == 20 && info.interlacedOrProgressive)
    }
}
