// MARK: - Image

/// A raster image with 8 bits per sample: rows top to bottom, samples interleaved, no padding.
///
/// `channels` is 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). Alpha is straight (not
/// premultiplied): 0 is fully transparent, 255 fully opaque.
public struct Image: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Samples per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// `width * height * channels` samples, row-major.
    public var pixels: [UInt8]

    /// An image over existing samples; `nil` when the sizes do not match or `channels` is not 1...4.
    public init?(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        guard width > 0, height > 0, (1...4).contains(channels),
              width.multipliedReportingOverflow(by: height).overflow == false,
              pixels.count == width * height * channels
        else { return nil }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with one value per channel (missing values repeat the last one).
    ///
    /// Sizes below 1 are raised to 1 and `channels` is clamped to 1...4.
    public init(width: Int, height: Int, channels: Int, fill: [UInt8] = [0]) {
        let width = max(1, width), height = max(1, height), channels = min(4, max(1, channels))
        var pixel = [UInt8](repeating: fill.last ?? 0, count: channels)
        for c in 0..<min(channels, fill.count) { pixel[c] = fill[c] }
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * channels)
        for _ in 0..<(width * height) { pixels.append(contentsOf: pixel) }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A 28×28 grey image from 784 samples (0 background … 255 ink), as `DigitPreparation` makes.
    /// `nil` when `digit` does not hold exactly 784 values.
    public init?(digit28 digit: [UInt8]) {
        self.init(width: 28, height: 28, channels: 1, pixels: digit)
    }

    /// Whether the image carries an alpha channel.
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// Number of pixels.
    public var pixelCount: Int { width * height }

    // MARK: - Pixel access

    /// The samples of the pixel at (`x`, `y`); empty when outside the image.
    public func pixel(x: Int, y: Int) -> [UInt8] {
        guard x >= 0, y >= 0, x < width, y < height else { return [] }
        let start = (y * width + x) * channels
        return Array(pixels[start..<(start + channels)])
    }

    /// The pixel at (`x`, `y`) as RGBA; transparent black when outside.
    public func rgba(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return (0, 0, 0, 0) }
        return rgba(at: y * width + x)
    }

    /// The `index`-th pixel (row-major) as RGBA.
    func rgba(at index: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = index * channels
        switch channels {
        case 1: return (pixels[i], pixels[i], pixels[i], 255)
        case 2: return (pixels[i], pixels[i], pixels[i], pixels[i + 1])
        case 3: return (pixels[i], pixels[i + 1], pixels[i + 2], 255)
        default: return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
        }
    }

    // MARK: - Conversions

    /// The same picture with `target` samples per pixel (grey uses Rec. 601 luma; a new alpha
    /// channel is opaque; dropping alpha keeps the colour samples as they are).
    public func converted(toChannels target: Int) -> Image {
        let target = min(4, max(1, target))
        if target == channels { return self }
        var out = [UInt8](repeating: 0, count: width * height * target)
        for p in 0..<(width * height) {
            let (r, g, b, a) = rgba(at: p)
            let o = p * target
            switch target {
            case 1: out[o] = Image.luma(r, g, b)
            case 2: out[o] = Image.luma(r, g, b); out[o + 1] = a
            case 3: out[o] = r; out[o + 1] = g; out[o + 2] = b
            default: out[o] = r; out[o + 1] = g; out[o + 2] = b; out[o + 3] = a
            }
        }
        return Image(uncheckedWidth: width, height: height, channels: target, pixels: out)
    }

    /// The colour (or grey) samples with alpha composited over a uniform grey `level`.
    public func compositedOver(level: UInt8) -> Image {
        guard hasAlpha else { return self }
        let colour = channels - 1
        var out = [UInt8](repeating: 0, count: width * height * colour)
        let background = Int(level)
        for p in 0..<(width * height) {
            let a = Int(pixels[p * channels + colour])
            for c in 0..<colour {
                let v = Int(pixels[p * channels + c])
                out[p * colour + c] = UInt8((v * a + background * (255 - a) + 127) / 255)
            }
        }
        return Image(uncheckedWidth: width, height: height, channels: colour, pixels: out)
    }

    /// Rec. 601 luma of an RGB triple, rounded.
    public static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let y = (299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500) / 1000
        return UInt8(min(255, y))
    }

    /// For code in this module that has already checked the sizes.
    init(uncheckedWidth width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}
