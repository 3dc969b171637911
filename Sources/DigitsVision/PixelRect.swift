// MARK: - PixelRect

/// A rectangle of whole pixels: `x..<x+width` by `y..<y+height`.
public struct PixelRect: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Left column and top row.
    public var x: Int
    public var y: Int
    /// Size in pixels.
    public var width: Int
    public var height: Int

    /// A rectangle from its top-left corner and size.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// One past the last column.
    public var maxX: Int { x + width }
    /// One past the last row.
    public var maxY: Int { y + height }

    /// Whether the pixel (`px`, `py`) lies inside.
    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The rectangle shrunk by `d` pixels on every side (grown when negative).
    public func insetBy(_ d: Int) -> PixelRect {
        PixelRect(x: x + d, y: y + d, width: max(0, width - 2 * d), height: max(0, height - 2 * d))
    }

    /// `W×H at (x, y)`.
    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}
