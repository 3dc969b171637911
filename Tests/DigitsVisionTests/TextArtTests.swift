import Testing
@testable import DigitsVision

// MARK: - Text art

@Suite("Text art")
struct TextArtTests {
    @Test("28 lines of 56 characters, background blank and ink dense")
    func shape() {
        var pixels = [UInt8](repeating: 0, count: 784)
        for y in 4..<24 { pixels[y * 28 + 14] = 255; pixels[y * 28 + 13] = 128 }
        let text = TextArt.render(pixels)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 28)
        #expect(lines.allSatisfy { $0.count == 56 })
        #expect(lines[0].allSatisfy { $0 == " " })
        let middle = Array(lines[10])
        #expect(middle[28] == "@" && middle[29] == "@")
        #expect(middle[26] != " " && middle[26] != "@")
    }

    @Test("a frame adds a border")
    func frame() {
        let text = TextArt.render([UInt8](repeating: 255, count: 4), frame: true)
        #expect(text == "+----+\n|@@@@|\n|@@@@|\n+----+")
    }
}
