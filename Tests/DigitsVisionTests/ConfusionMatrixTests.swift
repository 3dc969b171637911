import Testing
@testable import DigitsVision

// MARK: - Confusion matrix

@Suite("Confusion matrix picture and table")
struct ConfusionMatrixTests {
    static let matrix: [[Int]] = (0..<10).map { row in
        (0..<10).map { column in
            if row == column { return 900 + 10 * row }
            if row == 4 && column == 9 { return 31 }
            if row == 7 && column == 1 { return 20 }
            if row == 2 && column == 3 { return 3 }
            return 0
        }
    }

    /// The colour of a cell, sampled away from its border and its number.
    func cellColour(_ image: Image, _ layout: ConfusionMatrixPicture.Layout, row: Int, column: Int) -> Color {
        let cell = layout.cell(row: row, column: column)
        let p = image.rgba(x: cell.x + 3, y: cell.y + 3)
        return Color(p.r, p.g, p.b)
    }

    @Test("cells are coloured by count, numbered, and the axes labelled")
    func picture() {
        let image = ConfusionMatrixPicture.render(ConfusionMatrixTests.matrix)
        let layout = ConfusionMatrixPicture.layout(size: 10)
        #expect(image.width == layout.width && image.height == layout.height)

        // Mistakes: more is deeper; none is white.
        let zero = cellColour(image, layout, row: 0, column: 5)
        let three = cellColour(image, layout, row: 2, column: 3)
        let twenty = cellColour(image, layout, row: 7, column: 1)
        let thirtyOne = cellColour(image, layout, row: 4, column: 9)
        #expect(zero == .white)
        #expect(distanceFromWhite(zero) < distanceFromWhite(three))
        #expect(distanceFromWhite(three) < distanceFromWhite(twenty))
        #expect(distanceFromWhite(twenty) < distanceFromWhite(thirtyOne))
        #expect(thirtyOne.r > thirtyOne.b, "mistakes are red")
        // Right answers: blue, deeper for more.
        let low = cellColour(image, layout, row: 0, column: 0)
        let high = cellColour(image, layout, row: 9, column: 9)
        #expect(low.b > low.r && high.b > high.r)
        #expect(distanceFromWhite(low) < distanceFromWhite(high))
        #expect(distanceFromWhite(thirtyOne) < distanceFromWhite(low))

        // Numbers: white on the dark diagonal, dark on light cells.
        #expect(count(in: image, layout.cell(row: 5, column: 5).insetBy(4)) { $0 == .white } > 30)
        #expect(count(in: image, layout.cell(row: 4, column: 9).insetBy(4)) { $0 == .black } > 20)
        // Axis names.
        #expect(count(in: image, layout.predictedLabel, where: isDark) > 40)
        #expect(count(in: image, layout.trueLabel, where: isDark) > 20)
        #expect(layout.trueLabel.height > layout.trueLabel.width)
        // Row accuracies to the right of the grid.
        let right = PixelRect(x: layout.grid.maxX + 4, y: layout.grid.y, width: layout.width - layout.grid.maxX - 4, height: layout.grid.height)
        #expect(count(in: image, right, where: isDark) > 300)
    }

    @Test("the terminal table has counts, per-digit accuracy and the overall accuracy")
    func table() {
        let table = ConfusionMatrixPicture.table(ConfusionMatrixTests.matrix)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 13)
        #expect(lines[0].contains("predicted"))
        #expect(lines[1].hasPrefix("true") && lines[1].hasSuffix("accuracy"))
        #expect(lines[6].hasPrefix("   4") && lines[6].contains(" 940 ") && lines[6].contains("31"))
        #expect(lines[6].hasSuffix("96.8%"))   // 940 of 971
        #expect(lines[2].hasSuffix("100.0%"))
        #expect(lines[12].hasPrefix("overall accuracy 99.4"))
        #expect(Set(lines[2...11].map(\.count)).count == 1, "rows line up")
    }
}
