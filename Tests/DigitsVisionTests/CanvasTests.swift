import Testing
@testable import DigitsVision

// MARK: - Canvas and font

@Suite("Canvas and bitmap font")
struct CanvasTests {
    @Test("every printable ASCII character has its own glyph")
    func glyphs() {
        let fallback = BitmapFont.glyph("\u{FFFD}")
        var seen = Set<[UInt8]>()
        for scalar in 33...126 {
            let glyph = BitmapFont.glyph(Character(UnicodeScalar(UInt8(scalar))))
            #expect(glyph.count == BitmapFont.glyphHeight)
            #expect(glyph != fallback && glyph.contains { $0 != 0 }, "\(UnicodeScalar(UInt8(scalar)))")
            seen.insert(glyph)
        }
        #expect(seen.count == 94)
        #expect(BitmapFont.glyph("€") == fallback)
    }

    @Test("text is drawn inside its measured box and nowhere else")
    func textBox() {
        var canvas = Canvas(width: 200, height: 60)
        canvas.text("Loss 0.25", x: 10, y: 20, .black, scale: 2)
        let size = BitmapFont.size(of: "Loss 0.25", scale: 2)
        let box = PixelRect(x: 10, y: 20, width: size.width, height: size.height)
        let image = canvas.image
        #expect(count(in: image, box, where: isDark) > 50)
        #expect(count(in: image, PixelRect(x: 0, y: 0, width: 200, height: 60), where: isDark) == count(in: image, box, where: isDark))
    }

    @Test("vertical text occupies a tall box")
    func verticalText() {
        var canvas = Canvas(width: 40, height: 120)
        canvas.text("true", x: 5, y: 5, .black, scale: 2, vertical: true)
        let size = BitmapFont.size(of: "true", scale: 2)
        let image = canvas.image
        let tall = PixelRect(x: 5, y: 5, width: size.height, height: size.width)
        #expect(count(in: image, PixelRect(x: 0, y: 0, width: 40, height: 120), where: isDark) == count(in: image, tall, where: isDark))
    }

    @Test("anti-aliased lines cover their path")
    func line() {
        var canvas = Canvas(width: 50, height: 50)
        canvas.line(from: SIMD2(5, 5), to: SIMD2(45, 45), Color(200, 0, 0), lineWidth: 3)
        for t in stride(from: 5, through: 45, by: 5) { #expect(canvas.color(x: t, y: t) == Color(200, 0, 0)) }
        #expect(canvas.color(x: 45, y: 5) == .white)
    }

    @Test("images are scaled to fit with their aspect ratio")
    func drawImage() {
        var canvas = Canvas(width: 100, height: 100, background: .black)
        canvas.draw(Image(width: 20, height: 10, channels: 1, fill: [255]), fitting: PixelRect(x: 0, y: 0, width: 100, height: 100))
        #expect(canvas.color(x: 50, y: 50) == .white)
        #expect(canvas.color(x: 50, y: 10) == .black && canvas.color(x: 50, y: 90) == .black)
    }
}
