import Testing
@testable import DigitsVision

// MARK: - Digit grid

@Suite("Digit grid")
struct DigitGridTests {
    /// A 28×28 digit with a bright 4×4 square at (`x`, `y`).
    func marker(x: Int, y: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: 784)
        for dy in 0..<4 { for dx in 0..<4 { pixels[(y + dy) * 28 + x + dx] = 255 } }
        return pixels
    }

    @Test("size, tiles and labels are where the layout says")
    func content() {
        let images = (0..<12).map { marker(x: 2 * $0, y: 20 - $0) }
        let labels = (0..<12).map { "#\($0)" }
        let grid = DigitGrid.render(images: images, labels: labels, columns: 5, scale: 2)
        let layout = DigitGrid.layout(count: 12, columns: 5, scale: 2)
        #expect(grid.width == layout.width && grid.height == layout.height)
        #expect(layout.rows == 3)
        for index in 0..<12 {
            let tile = layout.tile(index)
            // The marker's pixels are bright, the rest of the tile is black.
            let inside = grid.rgba(x: tile.x + (2 * index + 1) * 2, y: tile.y + (20 - index + 1) * 2)
            #expect(inside.r == 255 && inside.g == 255)
            let outside = grid.rgba(x: tile.x + 1, y: tile.y + 1)
            #expect(outside.r == 0)
            // The label is drawn under its tile.
            #expect(count(in: grid, layout.label(index), where: isDark) > 10, "label \(index)")
        }
        // Cells past the last image stay white.
        #expect(count(in: grid, layout.tile(13), where: isDark) == 0)
    }

    @Test("a real prepared digit appears in its tile with its label colour")
    func preparedDigit() throws {
        let sample = SyntheticHandwriting.makeSet(count: 1, seed: 8)[0]
        let digit = try DigitPreparation.prepare(sample.image)
        let grid = DigitGrid.render(images: [digit, digit], labels: ["7", "wrong"], columns: 2, scale: 3,
                                    labelColors: [.black, Color(220, 0, 0)])
        let layout = DigitGrid.layout(count: 2, columns: 2, scale: 3)
        let tile = layout.tile(1)
        let bright = count(in: grid, tile) { $0.luma > 200 }
        let expected = digit.filter { $0 > 200 }.count * 9
        #expect(abs(bright - expected) <= expected / 10 + 9)
        #expect(count(in: grid, layout.label(1)) { $0.r > 180 && $0.g < 60 } > 10)
    }
}
