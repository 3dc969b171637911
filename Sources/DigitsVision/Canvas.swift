// MARK: - Canvas

/// An RGB raster to draw pictures on: rectangles, anti-aliased lines and discs, bitmap text,
/// grey digits and scaled images. Coordinates are pixels, x right, y down; a pixel's centre is
/// at its integer coordinates. Drawing outside the canvas is clipped.
public struct Canvas: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` samples, row-major RGB.
    public private(set) var pixels: [UInt8]

    /// A canvas filled with `background`.
    public init(width: Int, height: Int, background: Color = .white) {
        self.width = max(1, width)
        self.height = max(1, height)
        var pixels = [UInt8](repeating: background.r, count: self.width * self.height * 3)
        if background.g != background.r || background.b != background.r {
            pixels.withUnsafeMutableBufferPointer { buffer in
                for i in stride(from: 0, to: buffer.count, by: 3) {
                    buffer[i + 1] = background.g
                    buffer[i + 2] = background.b
                }
            }
        }
        self.pixels = pixels
    }

    /// The canvas as an RGB `Image`.
    public var image: Image {
        Image(uncheckedWidth: width, height: height, channels: 3, pixels: pixels)
    }

    // MARK: - Pixels

    /// The colour at (`x`, `y`); `nil` outside.
    public func color(x: Int, y: Int) -> Color? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        let i = (y * width + x) * 3
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Sets one pixel (clipped).
    public mutating func set(x: Int, y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r
        pixels[i + 1] = color.g
        pixels[i + 2] = color.b
    }

    /// Mixes `color` into one pixel with opacity `alpha` (0…1, clipped).
    public mutating func blend(x: Int, y: Int, _ color: Color, alpha: Double) {
        guard alpha > 0, x >= 0, y >= 0, x < width, y < height else { return }
        let a = min(1, alpha)
        let i = (y * width + x) * 3
        pixels[i] = UInt8((Double(pixels[i]) * (1 - a) + Double(color.r) * a).rounded())
        pixels[i + 1] = UInt8((Double(pixels[i + 1]) * (1 - a) + Double(color.g) * a).rounded())
        pixels[i + 2] = UInt8((Double(pixels[i + 2]) * (1 - a) + Double(color.b) * a).rounded())
    }

    // MARK: - Shapes

    /// Fills `rect` (clipped).
    public mutating func fill(_ rect: PixelRect, _ color: Color) {
        let x0 = max(0, rect.x), x1 = min(width, rect.maxX)
        let y0 = max(0, rect.y), y1 = min(height, rect.maxY)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 { set(x: x, y: y, color) }
        }
    }

    /// Draws the outline of `rect`, `thickness` pixels wide, inside it.
    public mutating func stroke(_ rect: PixelRect, _ color: Color, thickness: Int = 1) {
        let t = max(1, thickness)
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.maxY - t, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.y, width: t, height: rect.height), color)
        fill(PixelRect(x: rect.maxX - t, y: rect.y, width: t, height: rect.height), color)
    }

    /// An anti-aliased line of `lineWidth` pixels with round ends.
    public mutating func line(from a: SIMD2<Double>, to b: SIMD2<Double>, _ color: Color, lineWidth: Double = 1) {
        let r = max(0.5, lineWidth / 2)
        let d = b - a
        let lengthSquared = (d * d).sum()
        let x0 = max(0, Int((min(a.x, b.x) - r - 1).rounded(.down))), x1 = min(width - 1, Int((max(a.x, b.x) + r + 1).rounded(.up)))
        let y0 = max(0, Int((min(a.y, b.y) - r - 1).rounded(.down))), y1 = min(height - 1, Int((max(a.y, b.y) + r + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let p = SIMD2(Double(x), Double(y)) - a
                let t = lengthSquared > 0 ? min(1, max(0, (p * d).sum() / lengthSquared)) : 0
                let q = p - t * d
                let distance = (q * q).sum().squareRoot()
                blend(x: x, y: y, color, alpha: min(1, max(0, r + 0.5 - distance)))
            }
        }
    }

    /// Connected anti-aliased lines through `points`; with `dash` (on, off lengths in pixels)
    /// the line is dashed.
    public mutating func polyline(_ points: [SIMD2<Double>], _ color: Color, lineWidth: Double = 1, dash: (on: Double, off: Double)? = nil) {
        guard points.count > 1 else {
            if let p = points.first { disc(at: p, radius: lineWidth / 2, color) }
            return
        }
        // Draw into a coverage mask (over the lines' bounding box) first, so that overlapping
        // joints do not darken.
        let r = max(0.5, lineWidth / 2)
        let regionX0 = max(0, Int(((points.map(\.x).min() ?? 0) - r - 1).rounded(.down)))
        let regionX1 = min(width - 1, Int(((points.map(\.x).max() ?? 0) + r + 1).rounded(.up)))
        let regionY0 = max(0, Int(((points.map(\.y).min() ?? 0) - r - 1).rounded(.down)))
        let regionY1 = min(height - 1, Int(((points.map(\.y).max() ?? 0) + r + 1).rounded(.up)))
        guard regionX0 <= regionX1, regionY0 <= regionY1 else { return }
        let regionWidth = regionX1 - regionX0 + 1
        var coverage = [Double](repeating: 0, count: regionWidth * (regionY1 - regionY0 + 1))
        var travelled = 0.0
        for k in 0..<(points.count - 1) {
            let a = points[k], b = points[k + 1]
            let d = b - a
            let length = (d * d).sum().squareRoot()
            defer { travelled += length }
            let x0 = max(regionX0, Int((min(a.x, b.x) - r - 1).rounded(.down)))
            let x1 = min(regionX1, Int((max(a.x, b.x) + r + 1).rounded(.up)))
            let y0 = max(regionY0, Int((min(a.y, b.y) - r - 1).rounded(.down)))
            let y1 = min(regionY1, Int((max(a.y, b.y) + r + 1).rounded(.up)))
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let p = SIMD2(Double(x), Double(y)) - a
                    let t = length > 0 ? min(1, max(0, (p * d).sum() / (length * length))) : 0
                    if let dash {
                        let along = (travelled + t * length).truncatingRemainder(dividingBy: dash.on + dash.off)
                        if along > dash.on { continue }
                    }
                    let q = p - t * d
                    let c = min(1, max(0, r + 0.5 - (q * q).sum().squareRoot()))
                    let i = (y - regionY0) * regionWidth + (x - regionX0)
                    if c > coverage[i] { coverage[i] = c }
                }
            }
        }
        for i in 0..<coverage.count where coverage[i] > 0 {
            blend(x: regionX0 + i % regionWidth, y: regionY0 + i / regionWidth, color, alpha: coverage[i])
        }
    }

    /// An anti-aliased filled disc.
    public mutating func disc(at centre: SIMD2<Double>, radius: Double, _ color: Color) {
        let x0 = max(0, Int((centre.x - radius - 1).rounded(.down))), x1 = min(width - 1, Int((centre.x + radius + 1).rounded(.up)))
        let y0 = max(0, Int((centre.y - radius - 1).rounded(.down))), y1 = min(height - 1, Int((centre.y + radius + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Double(x) - centre.x, dy = Double(y) - centre.y
                let distance = (dx * dx + dy * dy).squareRoot()
                blend(x: x, y: y, color, alpha: min(1, max(0, radius + 0.5 - distance)))
            }
        }
    }

    // MARK: - Text

    /// Draws `text` with the built-in bitmap font, its top-left corner at (`x`, `y`), each font
    /// pixel `scale`×`scale` pixels. With `vertical` the text runs bottom to top (rotated a
    /// quarter turn anticlockwise) and (`x`, `y`) is the top-left of the rotated block.
    public mutating func text(_ text: String, x: Int, y: Int, _ color: Color, scale: Int = 1, vertical: Bool = false) {
        let s = max(1, scale)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let blockWidth = BitmapFont.size(of: text, scale: s).width
        for (lineIndex, line) in lines.enumerated() {
            for (charIndex, character) in line.enumerated() {
                let rows = BitmapFont.glyph(character)
                for (row, bits) in rows.enumerated() where bits != 0 {
                    for column in 0..<BitmapFont.glyphWidth where bits & (1 << UInt8(4 - column)) != 0 {
                        let fx = charIndex * BitmapFont.advance + column  // font pixel along the line
                        let fy = lineIndex * BitmapFont.lineHeight + row  // font pixel down the line
                        let px: Int, py: Int
                        if vertical {
                            px = x + fy * s
                            py = y + blockWidth - (fx + 1) * s
                        } else {
                            px = x + fx * s
                            py = y + fy * s
                        }
                        fill(PixelRect(x: px, y: py, width: s, height: s), color)
                    }
                }
            }
        }
    }

    /// Draws `text` centred horizontally on `centreX`, top at `y`.
    public mutating func text(_ text: String, centreX: Int, y: Int, _ color: Color, scale: Int = 1) {
        let size = BitmapFont.size(of: text, scale: scale)
        self.text(text, x: centreX - size.width / 2, y: y, color, scale: scale)
    }

    // MARK: - Images

    /// Draws a grey picture (`values`, `valueWidth` wide, 0 = `background` … 255 = `ink`) with
    /// each value as a `scale`×`scale` block, top-left at (`x`, `y`).
    public mutating func grey(_ values: [UInt8], width valueWidth: Int, x: Int, y: Int, scale: Int = 1,
                              ink: Color = .white, background: Color = .black) {
        guard valueWidth > 0 else { return }
        let s = max(1, scale)
        for (i, v) in values.enumerated() {
            let colour = background.mixed(with: ink, Double(v) / 255)
            fill(PixelRect(x: x + (i % valueWidth) * s, y: y + (i / valueWidth) * s, width: s, height: s), colour)
        }
    }

    /// Draws `image` scaled to fit inside `rect` (aspect kept, centred, area averaged when
    /// shrinking); alpha is composited over what is already there.
    public mutating func draw(_ image: Image, fitting rect: PixelRect) {
        guard rect.width > 0, rect.height > 0 else { return }
        let scale = min(Double(rect.width) / Double(image.width), Double(rect.height) / Double(image.height))
        let w = max(1, Int((Double(image.width) * scale).rounded())), h = max(1, Int((Double(image.height) * scale).rounded()))
        let ox = rect.x + (rect.width - w) / 2, oy = rect.y + (rect.height - h) / 2
        let rgba = image.converted(toChannels: 4)
        var planes: [[Float]] = []
        for c in 0..<4 {
            var plane = [Float](repeating: 0, count: image.pixelCount)
            for p in 0..<image.pixelCount {
                let a = Float(rgba.pixels[p * 4 + 3])
                // Premultiply colour by alpha so transparent pixels do not bleed.
                plane[p] = c == 3 ? a : Float(rgba.pixels[p * 4 + c]) * a / 255
            }
            planes.append(Resampling.resize(plane, width: image.width, height: image.height, toWidth: w, toHeight: h))
        }
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let a = Double(planes[3][i]) / 255
                guard a > 0 else { continue }
                func channel(_ c: Int) -> UInt8 { UInt8(min(255, max(0, (Double(planes[c][i]) / a).rounded()))) }
                blend(x: ox + x, y: oy + y, Color(channel(0), channel(1), channel(2)), alpha: a)
            }
        }
    }
}
