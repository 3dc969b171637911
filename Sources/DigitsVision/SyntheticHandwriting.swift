import Foundation

// MARK: - SyntheticHandwriting

/// Realistic test pictures of handwritten digits, reproducible from an explicit seed.
///
/// Each digit is drawn from a pen path (a few styles per digit) with a wobble, slant, small
/// rotation and varying aspect, as a stroke of varying thickness and pressure, off-centre, at
/// different sizes; dark on light or light on dark; grey, RGB or with alpha; on images from
/// 40×40 to 400×300, some with noise, a lighting gradient or specks of dust; stored as PNG
/// (8-bit, 16-bit or palette) or JPEG (baseline or progressive). The decoded `image` is what a
/// reader of `fileData` gets, artefacts included.
public struct SyntheticHandwriting: Sendable {
    /// Choices to force instead of drawing them at random. The random draws are made either
    /// way, so two calls that differ only in overrides produce the same digit geometry.
    public struct Overrides: Sendable, Equatable {
        /// Dark ink on a light page (`true`) or light on dark (`false`).
        public var darkOnLight: Bool?
        /// The colour layout.
        public var colour: SyntheticStyle.Colour?
        /// Whether JPEG may be used (`false` keeps every image lossless PNG).
        public var allowJPEG: Bool?
        /// No noise, gradient or specks when `true`.
        public var clean: Bool?
        /// A fixed image size.
        public var size: (width: Int, height: Int)?

        /// Overrides for the given choices; `nil` leaves a choice random.
        public init(darkOnLight: Bool? = nil, colour: SyntheticStyle.Colour? = nil, allowJPEG: Bool? = nil,
                    clean: Bool? = nil, size: (width: Int, height: Int)? = nil) {
            self.darkOnLight = darkOnLight
            self.colour = colour
            self.allowJPEG = allowJPEG
            self.clean = clean
            self.size = size
        }

        /// Equal when every override is.
        public static func == (a: Overrides, b: Overrides) -> Bool {
            a.darkOnLight == b.darkOnLight && a.colour == b.colour && a.allowJPEG == b.allowJPEG
                && a.clean == b.clean && a.size?.width == b.size?.width && a.size?.height == b.size?.height
        }
    }

    private var random: SeededRandom

    /// A generator whose every picture is fixed by `seed`.
    public init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// `count` pictures with labels 0, 1, …, 9, 0, 1, … from `seed`.
    public static func makeSet(count: Int, seed: UInt64, overrides: Overrides = Overrides()) -> [SyntheticDigit] {
        var generator = SyntheticHandwriting(seed: seed)
        return (0..<max(0, count)).map { generator.make(digit: $0 % 10, overrides: overrides) }
    }

    // MARK: - Making one picture

    /// The next picture of `digit` (0–9; other values are taken modulo 10).
    public mutating func make(digit: Int, overrides: Overrides = Overrides()) -> SyntheticDigit {
        let label = ((digit % 10) + 10) % 10
        let plan = drawPlan(label: label, overrides: overrides)
        let coverage = rasterise(plan)
        let picture = compose(plan, coverage: coverage)
        let (data, ext) = encode(picture, plan: plan)
        let decoded = (try? ImageIO.decode(data, name: "synthetic")) ?? picture
        return SyntheticDigit(label: label, image: decoded, fileData: data, fileExtension: ext, style: plan.style)
    }

    // MARK: - Plan

    /// Every random choice for one picture.
    struct Plan {
        var style: SyntheticStyle
        var strokes: [[SIMD2<Double>]]  // in pixels
        var radius: Double
        var pressure: Double
        var pressurePhase: Double
        var paper: [Double]  // RGB
        var ink: [Double]    // RGB
        var gradientDirection: Double
        var noiseSeed: UInt64
        var transparentFill: Double  // grey of fully transparent pixels' colour samples
    }

    private mutating func drawPlan(label: Int, overrides: Overrides) -> Plan {
        // Geometry.
        let styles = DigitSkeletons.styles(of: label)
        let total = styles.reduce(0) { $0 + $1.weight }
        var pick = random.uniform(0...total)
        var strokes = styles.last?.strokes ?? []
        for style in styles {
            if pick < style.weight { strokes = style.strokes; break }
            pick -= style.weight
        }
        var width = random.integer(40...400)
        var height = random.integer(40...300)
        if let size = overrides.size { width = max(8, size.width); height = max(8, size.height) }
        let heightFraction = random.uniform(0.35...0.85)
        let aspect = random.uniform(0.75...1.25)
        let slant = random.uniform(-0.3...0.3)
        let rotation = random.uniform(-12...12)
        let thicknessFraction = random.uniform(0.06...0.17)
        let pressure = random.uniform(0...0.25)
        let pressurePhase = random.uniform(0...(2 * Double.pi))
        let wobble = (0..<8).map { _ in random.uniform(-1...1) }
        let placeX = random.unit(), placeY = random.unit()

        // Appearance.
        var darkOnLight = random.chance(0.65)
        let colourRoll = random.unit()
        var colour: SyntheticStyle.Colour = colourRoll < 0.35 ? .grey : colourRoll < 0.7 ? .rgb : colourRoll < 0.8 ? .greyAlpha : .rgba
        let paperLevel = random.uniform(175...255)
        let inkLevel = random.uniform(0...85)
        let tint = (0..<3).map { _ in random.uniform(-12...12) }
        let inkHue = random.integer(0...3)  // black, blue, dark red, grey
        var noise = random.chance(0.5) ? random.uniform(2...12) : 0
        var gradient = random.chance(0.5) ? random.uniform(10...45) : 0
        let gradientDirection = random.uniform(0...(2 * Double.pi))
        var speckles = random.chance(0.25) ? random.integer(3...30) : 0
        let encodingRoll = random.unit()
        let quality = random.integer(55...95)
        let progressive = random.chance(0.5)
        let depthRoll = random.unit()
        let noiseSeed = random.next()
        let transparentFill = [0.0, 255, inkLevel][random.integer(0...2)]

        // Overrides.
        if let forced = overrides.darkOnLight { darkOnLight = forced }
        if let forced = overrides.colour { colour = forced }
        if overrides.clean == true { noise = 0; gradient = 0; speckles = 0 }
        let alpha = colour == .greyAlpha || colour == .rgba
        if alpha { gradient = 0; noise = min(noise, 4) }
        let encoding: SyntheticStyle.Encoding
        if !alpha && overrides.allowJPEG != false && encodingRoll < 0.3 {
            encoding = .jpeg(quality: quality, progressive: progressive)
        } else if colour == .grey {
            encoding = depthRoll < 0.6 ? .png(bitDepth: 8, palette: false)
                : depthRoll < 0.85 ? .png(bitDepth: 16, palette: false) : .png(bitDepth: 4, palette: true)
        } else if colour == .rgb {
            encoding = .png(bitDepth: depthRoll < 0.75 ? 8 : 16, palette: false)
        } else {
            encoding = .png(bitDepth: 8, palette: false)
        }

        // Pen path to pixels: wobble, aspect, slant, rotation, scale, then place inside the image.
        let digitHeight = heightFraction * Double(min(height, Int(Double(width) / 0.75)))
        let radius = max(0.6, thicknessFraction * digitHeight / 2)
        let angle = rotation * Double.pi / 180
        var transformed: [[SIMD2<Double>]] = strokes.map { stroke in
            stroke.map { p in
                var x = p.x - 0.3, y = p.y - 0.5
                x += 0.025 * (wobble[0] * sin(3 * y + wobble[1] * 3) + wobble[2] * sin(5 * y + wobble[3] * 3))
                y += 0.025 * (wobble[4] * sin(3 * x + wobble[5] * 3) + wobble[6] * sin(5 * x + wobble[7] * 3))
                x = x * aspect - slant * y
                let rx = x * cos(angle) - y * sin(angle), ry = x * sin(angle) + y * cos(angle)
                return SIMD2(rx * digitHeight, ry * digitHeight)
            }
        }
        let all = transformed.flatMap { $0 }
        let minX = all.map(\.x).min() ?? 0, maxX = all.map(\.x).max() ?? 0
        let minY = all.map(\.y).min() ?? 0, maxY = all.map(\.y).max() ?? 0
        let pad = radius + 2
        // Shrink if the digit does not fit (extreme aspect of a narrow image).
        let fit = min(1, (Double(width) - 2 * pad) / max(1, maxX - minX), (Double(height) - 2 * pad) / max(1, maxY - minY))
        let spanX = (maxX - minX) * fit, spanY = (maxY - minY) * fit
        let left = pad + placeX * max(0, Double(width) - 2 * pad - spanX)
        let top = pad + placeY * max(0, Double(height) - 2 * pad - spanY)
        transformed = transformed.map { stroke in
            stroke.map { p in SIMD2(left + (p.x - minX) * fit, top + (p.y - minY) * fit) }
        }

        // Colours.
        let inkRGB: [Double]
        switch inkHue {
        case 1: inkRGB = [inkLevel * 0.3, inkLevel * 0.5, min(255, inkLevel + 120)]
        case 2: inkRGB = [min(255, inkLevel + 110), inkLevel * 0.3, inkLevel * 0.3]
        default: inkRGB = [inkLevel, inkLevel, inkLevel]
        }
        var paper = (0..<3).map { min(255, max(0, paperLevel + tint[$0])) }
        let ink = colour == .grey || colour == .greyAlpha ? [inkLevel, inkLevel, inkLevel] : inkRGB
        if colour == .grey || colour == .greyAlpha { paper = [paperLevel, paperLevel, paperLevel] }
        // Light on dark is the photographic negative of the same scene (chalk on a blackboard):
        // `compose` inverts the finished samples, gradient and grain included.
        let style = SyntheticStyle(
            width: width, height: height, darkOnLight: darkOnLight, colour: colour, encoding: encoding,
            digitHeight: (maxY - minY) * fit, strokeWidth: 2 * radius * fit, rotation: rotation, slant: slant,
            noise: noise, gradient: gradient, speckles: speckles)
        return Plan(style: style, strokes: transformed, radius: radius * fit, pressure: pressure,
                    pressurePhase: pressurePhase, paper: paper, ink: ink, gradientDirection: gradientDirection,
                    noiseSeed: noiseSeed, transparentFill: transparentFill)
    }

    // MARK: - Drawing

    /// Ink coverage 0…1 per pixel: the union of round-capped segments whose radius follows the
    /// pen pressure, anti-aliased by distance.
    private func rasterise(_ plan: Plan) -> [Float] {
        let width = plan.style.width, height = plan.style.height
        var coverage = [Float](repeating: 0, count: width * height)
        var travelled = 0.0
        for stroke in plan.strokes {
            guard stroke.count > 1 else { continue }
            for k in 0..<(stroke.count - 1) {
                let a = stroke[k], b = stroke[k + 1]
                let d = b - a
                let length = (d * d).sum().squareRoot()
                let ra = plan.radius * (1 + plan.pressure * sin(plan.pressurePhase + travelled / max(1, 4 * plan.radius)))
                travelled += length
                let rb = plan.radius * (1 + plan.pressure * sin(plan.pressurePhase + travelled / max(1, 4 * plan.radius)))
                let reach = max(ra, rb) + 1
                let x0 = max(0, Int((min(a.x, b.x) - reach).rounded(.down)))
                let x1 = min(width - 1, Int((max(a.x, b.x) + reach).rounded(.up)))
                let y0 = max(0, Int((min(a.y, b.y) - reach).rounded(.down)))
                let y1 = min(height - 1, Int((max(a.y, b.y) + reach).rounded(.up)))
                guard x0 <= x1, y0 <= y1 else { continue }
                let lengthSquared = max(1e-12, (d * d).sum())
                for y in y0...y1 {
                    for x in x0...x1 {
                        let p = SIMD2(Double(x), Double(y)) - a
                        let t = min(1, max(0, (p * d).sum() / lengthSquared))
                        let q = p - t * d
                        let distance = (q * q).sum().squareRoot()
                        let r = ra + (rb - ra) * t
                        let c = Float(min(1, max(0, r + 0.5 - distance)))
                        let i = y * width + x
                        if c > coverage[i] { coverage[i] = c }
                    }
                }
            }
        }
        return coverage
    }

    /// The picture's samples from the coverage: page, gradient, ink, noise, specks, alpha.
    private func compose(_ plan: Plan, coverage: [Float]) -> Image {
        let style = plan.style
        let width = style.width, height = style.height
        var noiseSource = SeededRandom(seed: plan.noiseSeed)
        let channels: Int
        switch style.colour {
        case .grey: channels = 1
        case .greyAlpha: channels = 2
        case .rgb: channels = 3
        case .rgba: channels = 4
        }
        let colourChannels = style.colour == .grey || style.colour == .greyAlpha ? 1 : 3
        let alpha = channels == 2 || channels == 4
        var speckle = [Float](repeating: 0, count: width * height)
        for _ in 0..<style.speckles {
            let x = noiseSource.integer(0...(width - 1)), y = noiseSource.integer(0...(height - 1))
            let size = noiseSource.integer(1...2)
            let strength = Float(noiseSource.uniform(0.5...1))
            for dy in 0..<size where y + dy < height {
                for dx in 0..<size where x + dx < width { speckle[(y + dy) * width + x + dx] = strength }
            }
        }
        let gx = cos(plan.gradientDirection), gy = sin(plan.gradientDirection)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let u = Double(x) / Double(width) - 0.5, v = Double(y) / Double(height) - 0.5
                let shade = style.gradient * 2 * (u * gx + v * gy)  // ±gradient across the image
                let c = Double(max(coverage[i], speckle[i]))
                let grain = style.noise > 0 ? style.noise * noiseSource.gaussian() : 0
                for k in 0..<colourChannels {
                    var value: Double
                    if alpha {
                        value = c > 0 ? plan.ink[k] + grain : plan.transparentFill
                        if !style.darkOnLight && c > 0 { value = 255 - value }
                    } else {
                        value = (plan.paper[k] + shade) * (1 - c) + plan.ink[k] * c + grain
                        if !style.darkOnLight { value = 255 - value }
                    }
                    pixels[i * channels + k] = UInt8(min(255, max(0, value.rounded())))
                }
                if alpha { pixels[i * channels + colourChannels] = UInt8((c * 255).rounded()) }
            }
        }
        return Image(uncheckedWidth: width, height: height, channels: channels, pixels: pixels)
    }

    /// File bytes in the planned encoding.
    private func encode(_ picture: Image, plan: Plan) -> (data: [UInt8], fileExtension: String) {
        switch plan.style.encoding {
        case let .jpeg(quality, progressive):
            if let data = try? ImageIO.jpegData(picture, quality: quality, progressive: progressive) { return (data, "jpg") }
        case let .png(bitDepth, palette):
            let type: ImageIO.PNGColorType = [.grey, .greyAlpha, .rgb, .rgba][picture.channels - 1]
            if palette && picture.channels == 1 {
                let levels = 1 << bitDepth
                let indices = picture.pixels.map { UInt16((Int($0) * (levels - 1) + 127) / 255) }
                let entries = (0..<levels).flatMap { i -> [UInt8] in
                    let g = UInt8(i * 255 / (levels - 1))
                    return [g, g, g]
                }
                if let data = try? ImageIO.pngData(samples: indices, width: picture.width, height: picture.height,
                                                   colorType: .palette, bitDepth: bitDepth, palette: entries) {
                    return (data, "png")
                }
            } else if bitDepth == 16 {
                let samples = picture.pixels.map { UInt16($0) * 257 }
                if let data = try? ImageIO.pngData(samples: samples, width: picture.width, height: picture.height,
                                                   colorType: type, bitDepth: 16) {
                    return (data, "png")
                }
            }
        }
        return ((try? ImageIO.pngData(picture)) ?? [], "png")
    }
}

// MARK: - SyntheticStyle

/// How one synthetic picture was made.
public struct SyntheticStyle: Sendable, Equatable, CustomStringConvertible {
    /// Sample layout.
    public enum Colour: String, Sendable, CaseIterable {
        case grey, greyAlpha, rgb, rgba
    }

    /// File format.
    public enum Encoding: Sendable, Equatable {
        case png(bitDepth: Int, palette: Bool)
        case jpeg(quality: Int, progressive: Bool)
    }

    /// Image size in pixels.
    public var width: Int
    public var height: Int
    /// Dark ink on a light page, or the negative.
    public var darkOnLight: Bool
    /// Sample layout.
    public var colour: Colour
    /// File format.
    public var encoding: Encoding
    /// Height of the drawn digit, pixels.
    public var digitHeight: Double
    /// Nominal pen width, pixels.
    public var strokeWidth: Double
    /// Degrees.
    public var rotation: Double
    public var slant: Double
    /// Standard deviation of the grain, grey levels.
    public var noise: Double
    /// Lighting gradient amplitude, grey levels.
    public var gradient: Double
    public var speckles: Int

    public var description: String {
        let format: String
        switch encoding {
        case let .png(depth, palette): format = palette ? "PNG palette \(depth)-bit" : "PNG \(depth)-bit"
        case let .jpeg(quality, progressive): format = "JPEG q\(quality)\(progressive ? " progressive" : "")"
        }
        return "\(width)×\(height) \(colour.rawValue) \(darkOnLight ? "dark on light" : "light on dark"), \(format), "
            + "digit \(Int(digitHeight)) px, pen \(String(format: "%.1f", strokeWidth)) px, "
            + "rotation \(Int(rotation.rounded()))°, noise \(Int(noise.rounded())), gradient \(Int(gradient.rounded())), specks \(speckles)"
    }
}

// MARK: - SyntheticDigit

/// One synthetic picture: its label, file bytes, and the pixels a reader decodes from them.
public struct SyntheticDigit: Sendable {
    /// The digit drawn.
    public var label: Int
    /// The decoded picture (JPEG artefacts and bit-depth rounding included).
    public var image: Image
    /// PNG or JPEG bytes.
    public var fileData: [UInt8]
    /// `png` or `jpg`.
    public var fileExtension: String
    /// How it was made.
    public var style: SyntheticStyle

    /// A file name such as `0007-digit3.jpg`.
    public func fileName(index: Int) -> String {
        let number = String(index)
        return String(repeating: "0", count: max(0, 4 - number.count)) + number + "-digit\(label).\(fileExtension)"
    }

    /// Writes the file bytes into `directory` as `fileName(index:)`; returns the file's URL.
    @discardableResult
    public func write(to directory: URL, index: Int) throws(ImageError) -> URL {
        let url = directory.appendingPathComponent(fileName(index: index))
        try ImageIO.writeAtomically(fileData, to: url)
        return url
    }
}
