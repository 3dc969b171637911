// MARK: - Color

/// An opaque 8-bit RGB colour.
public struct Color: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Red, green and blue, 0…255.
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    /// A colour from its red, green and blue samples.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// A grey of `level`.
    public init(grey level: UInt8) {
        self.init(level, level, level)
    }

    /// Common colours.
    public static let white = Color(255, 255, 255)
    public static let black = Color(0, 0, 0)
    public static let lightGrey = Color(225, 225, 225)
    public static let grey = Color(128, 128, 128)
    public static let darkGrey = Color(64, 64, 64)

    /// Distinct, colour-blind-friendly colours for plot series (Okabe–Ito, darkened for white paper).
    public static let series: [Color] = [
        Color(0, 114, 178),   // blue
        Color(213, 94, 0),    // vermilion
        Color(0, 158, 115),   // green
        Color(204, 121, 167), // purple
        Color(230, 159, 0),   // orange
        Color(86, 180, 233),  // sky
        Color(0, 0, 0),       // black
    ]

    /// `#rrggbb`, as SVG wants it.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        return "#" + [r, g, b].map { "\(digits[Int($0 >> 4)])\(digits[Int($0 & 15)])" }.joined()
    }

    /// Straight interpolation towards `other` by `t` (0…1).
    public func mixed(with other: Color, _ t: Double) -> Color {
        let t = min(1, max(0, t))
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
        return Color(mix(r, other.r), mix(g, other.g), mix(b, other.b))
    }

    /// Rec. 601 luma.
    public var luma: UInt8 { Image.luma(r, g, b) }

    /// `#rrggbb`.
    public var description: String { hex }
}
