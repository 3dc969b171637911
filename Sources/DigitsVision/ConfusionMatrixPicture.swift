import Foundation

// MARK: - ConfusionMatrixPicture

/// A confusion matrix (`matrix[true][predicted]` counts) as a picture and as a terminal table.
///
/// In the picture every cell is coloured by its count on one logarithmic scale for the whole
/// matrix (white for 0, deeper for more): blue on the diagonal (right answers), red elsewhere
/// (mistakes). Rows are the true digits (axis label "true"), columns the predicted ones
/// ("predicted"); each cell shows its count, and each row its accuracy on the right.
public enum ConfusionMatrixPicture {
    /// Hue of right answers at full strength.
    public static let correctColor = Color(8, 81, 156)
    /// Hue of mistakes at full strength.
    public static let mistakeColor = Color(200, 30, 30)

    /// Where everything goes.
    public struct Layout: Sendable, Equatable {
        /// Number of classes.
        public var size: Int
        /// Side of a cell in pixels.
        public var cell: Int
        /// The grid of cells.
        public var grid: PixelRect
        /// Size of the whole picture.
        public var width: Int
        public var height: Int
        /// The "predicted" label's box (above the grid).
        public var predictedLabel: PixelRect
        /// The "true" label's box (vertical, left of the grid).
        public var trueLabel: PixelRect

        /// The cell of true class `row` and predicted class `column`.
        public func cell(row: Int, column: Int) -> PixelRect {
            PixelRect(x: grid.x + column * cell, y: grid.y + row * cell, width: cell, height: cell)
        }
    }

    static let textScale = 2

    /// The layout for an `n`×`n` matrix.
    public static func layout(size n: Int, title: Bool = false) -> Layout {
        let s = textScale
        let text = BitmapFont.capHeight * s
        let cell = 58
        let titleHeight = title ? BitmapFont.capHeight * 3 + 16 : 0
        let top = 14 + titleHeight + text + 12 + text + 10  // title, "predicted", column labels
        let left = 14 + text + 12 + BitmapFont.size(of: String(max(0, n - 1)), scale: s).width + 10
        let accuracyWidth = BitmapFont.size(of: "100.0%", scale: s).width + 20
        let grid = PixelRect(x: left, y: top, width: n * cell, height: n * cell)
        let bottom = 16 + text + 14
        let predicted = BitmapFont.size(of: "predicted", scale: s)
        let truth = BitmapFont.size(of: "true", scale: s)
        return Layout(size: n, cell: cell, grid: grid, width: left + grid.width + accuracyWidth + 10,
                      height: top + grid.height + bottom,
                      predictedLabel: PixelRect(x: grid.x + (grid.width - predicted.width) / 2, y: 14 + titleHeight,
                                                width: predicted.width, height: predicted.height),
                      trueLabel: PixelRect(x: 14, y: grid.y + (grid.height - truth.width) / 2,
                                           width: truth.height, height: truth.width))
    }

    /// Strength 0…1 of a count on the picture's logarithmic scale.
    public static func intensity(_ count: Int, maximum: Int) -> Double {
        guard count > 0, maximum > 0 else { return 0 }
        return log(1 + Double(count)) / log(1 + Double(maximum))
    }

    /// The colour of a cell.
    public static func color(count: Int, maximum: Int, correct: Bool) -> Color {
        Color.white.mixed(with: correct ? correctColor : mistakeColor, 0.92 * intensity(count, maximum: maximum))
    }

    // MARK: - Picture

    /// The matrix as an RGB image. Rows of `matrix` are true classes, columns predicted ones;
    /// a ragged or empty matrix gives a picture of the part that is square.
    public static func render(_ matrix: [[Int]], title: String? = nil) -> Image {
        let n = matrix.count
        let layout = layout(size: n, title: title != nil)
        let s = textScale
        let text = BitmapFont.capHeight * s
        var canvas = Canvas(width: layout.width, height: layout.height, background: .white)
        let maximum = matrix.flatMap { $0 }.max() ?? 0
        if let title { canvas.text(title, x: 14, y: 14, .black, scale: 3) }
        canvas.text("predicted", x: layout.predictedLabel.x, y: layout.predictedLabel.y, .black, scale: s)
        canvas.text("true", x: layout.trueLabel.x, y: layout.trueLabel.y, .black, scale: s, vertical: true)
        for i in 0..<n {
            let columnCell = layout.cell(row: 0, column: i)
            canvas.text(String(i), centreX: columnCell.x + columnCell.width / 2, y: layout.grid.y - 10 - text, .darkGrey, scale: s)
            let rowCell = layout.cell(row: i, column: 0)
            let label = String(i)
            let labelWidth = BitmapFont.size(of: label, scale: s).width
            canvas.text(label, x: layout.grid.x - 10 - labelWidth, y: rowCell.y + (rowCell.height - text) / 2, .darkGrey, scale: s)
        }
        var correctTotal = 0, total = 0
        for row in 0..<n {
            let counts = matrix[row]
            for column in 0..<n {
                let count = column < counts.count ? counts[column] : 0
                let cell = layout.cell(row: row, column: column)
                let colour = color(count: count, maximum: maximum, correct: row == column)
                canvas.fill(cell, colour)
                canvas.stroke(cell, Color(210, 210, 210))
                let label = String(count)
                var scale = s
                while scale > 1 && BitmapFont.size(of: label, scale: scale).width > cell.width - 6 { scale -= 1 }
                let ink: Color = colour.luma < 140 ? .white : (count == 0 ? Color(170, 170, 170) : .black)
                let h = BitmapFont.capHeight * scale
                canvas.text(label, centreX: cell.x + cell.width / 2, y: cell.y + (cell.height - h) / 2, ink, scale: scale)
            }
            let rowTotal = counts.prefix(n).reduce(0, +)
            let right = row < counts.count ? counts[row] : 0
            correctTotal += right
            total += rowTotal
            let accuracy = rowTotal > 0 ? String(format: "%.1f%%", 100 * Double(right) / Double(rowTotal)) : "-"
            let rowCell = layout.cell(row: row, column: n - 1)
            canvas.text(accuracy, x: rowCell.maxX + 10, y: rowCell.y + (rowCell.height - text) / 2, .darkGrey, scale: s)
        }
        canvas.stroke(layout.grid.insetBy(-1), .darkGrey)
        let overall = total > 0 ? String(format: "accuracy %.2f%% (%d of %d)", 100 * Double(correctTotal) / Double(total), correctTotal, total) : "no samples"
        canvas.text(overall, x: layout.grid.x, y: layout.grid.maxY + 16, .black, scale: s)
        return canvas.image
    }

    // MARK: - Table

    /// The matrix as a fixed-width table for the terminal: counts with true digits as rows and
    /// predicted digits as columns, each row's accuracy, and the overall accuracy.
    public static func table(_ matrix: [[Int]]) -> String {
        let n = matrix.count
        let widest = String(matrix.flatMap { $0 }.max() ?? 0).count
        let w = max(4, widest + 1)
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines: [String] = []
        lines.append(String(repeating: " ", count: 6) + "predicted")
        lines.append("true  " + (0..<n).map { pad(String($0), w) }.joined() + "   accuracy")
        var correctTotal = 0, total = 0
        for row in 0..<n {
            let counts = (0..<n).map { $0 < matrix[row].count ? matrix[row][$0] : 0 }
            let rowTotal = counts.reduce(0, +)
            correctTotal += counts[row]
            total += rowTotal
            let accuracy = rowTotal > 0 ? String(format: "%6.1f%%", 100 * Double(counts[row]) / Double(rowTotal)) : "      -"
            lines.append(pad(String(row), 4) + "  " + counts.map { pad(String($0), w) }.joined() + "    " + accuracy)
        }
        if total > 0 {
            lines.append(String(format: "overall accuracy %.2f%% (%d of %d)", 100 * Double(correctTotal) / Double(total), correctTotal, total))
        } else {
            lines.append("no samples")
        }
        return lines.joined(separator: "\n")
    }
}
