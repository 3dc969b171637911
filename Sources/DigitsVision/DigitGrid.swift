// MARK: - DigitGrid

/// A sheet of digits with their labels: white-on-black tiles (as the network sees them) in
/// rows and columns on white paper, each label printed under its tile.
public enum DigitGrid {
    /// Where everything goes on the sheet.
    public struct Layout: Sendable, Equatable {
        /// Tiles per row.
        public var columns: Int
        /// Rows of tiles.
        public var rows: Int
        /// Each digit pixel becomes `scale`×`scale` pixels.
        public var scale: Int
        /// Side of a digit in its own pixels (28 for MNIST).
        public var side: Int
        /// Space around the sheet and between cells.
        public var gap: Int
        /// Height of the label strip under each tile.
        public var labelHeight: Int
        /// Height of the title strip (0 without a title).
        public var titleHeight: Int

        /// Side of a tile in pixels.
        public var tileSide: Int { side * scale }
        /// Width of the sheet.
        public var width: Int { gap + columns * (tileSide + gap) }
        /// Height of the sheet.
        public var height: Int { titleHeight + gap + rows * (tileSide + labelHeight + gap) }

        /// The tile of the `index`-th digit (row-major).
        public func tile(_ index: Int) -> PixelRect {
            let column = index % max(1, columns), row = index / max(1, columns)
            return PixelRect(x: gap + column * (tileSide + gap),
                             y: titleHeight + gap + row * (tileSide + labelHeight + gap),
                             width: tileSide, height: tileSide)
        }

        /// The label strip of the `index`-th digit, under its tile.
        public func label(_ index: Int) -> PixelRect {
            let t = tile(index)
            return PixelRect(x: t.x, y: t.maxY, width: t.width, height: labelHeight)
        }
    }

    /// The layout for `count` digits of `side`×`side` in `columns` columns.
    public static func layout(count: Int, columns: Int, scale: Int = 2, side: Int = 28, title: Bool = false) -> Layout {
        let columns = max(1, min(columns, max(1, count)))
        let rows = max(1, (max(0, count) + columns - 1) / columns)
        let s = max(1, scale)
        return Layout(columns: columns, rows: rows, scale: s, side: max(1, side), gap: 4 * s,
                      labelHeight: 11 * s, titleHeight: title ? 14 * s : 0)
    }

    /// The sheet as an RGB image. `images` are square grey digits (784 values for 28×28, 0
    /// background … 255 ink); `labels[i]` is printed under `images[i]` (missing labels are
    /// left blank), in `labelColors[i]` when given.
    public static func render(images: [[UInt8]], labels: [String], columns: Int = 10, scale: Int = 2,
                              labelColors: [Color]? = nil, title: String? = nil) -> Image {
        let side = images.first.map { Int(Double($0.count).squareRoot().rounded()) } ?? 28
        let layout = layout(count: images.count, columns: columns, scale: scale, side: max(1, side), title: title != nil)
        var canvas = Canvas(width: layout.width, height: layout.height, background: .white)
        if let title {
            canvas.text(title, x: layout.gap, y: layout.gap + scale, .black, scale: scale)
        }
        for (index, digit) in images.enumerated() {
            let tile = layout.tile(index)
            canvas.fill(tile, .black)
            if digit.count == side * side {
                canvas.grey(digit, width: side, x: tile.x, y: tile.y, scale: layout.scale)
            }
            guard index < labels.count else { continue }
            let label = labels[index]
            // The largest font scale (up to the sheet's) at which the label fits under the tile.
            var textScale = layout.scale
            while textScale > 1 && BitmapFont.size(of: label, scale: textScale).width > tile.width { textScale -= 1 }
            let strip = layout.label(index)
            let color = labelColors.flatMap { index < $0.count ? $0[index] : nil } ?? .black
            canvas.text(label, centreX: strip.x + strip.width / 2, y: strip.y + 2 * layout.scale, color, scale: textScale)
        }
        return canvas.image
    }
}
