#if !hasFeature(Embedded)
import Foundation
#endif

// MARK: - DigitPreparation

/// Turns a photo, scan or drawing of one handwritten digit into the 28×28 picture an MNIST
/// network expects, the way MNIST itself was made:
///
/// 1. greyscale (Rec. 601 luma; transparent pixels become background);
/// 2. find the ink's polarity and make ink bright on dark;
/// 3. remove the background level (a robustly fitted plane, so uneven lighting goes too);
/// 4. crop to the ink's bounding box, ignoring speckles (a threshold relative to the ink's own
///    contrast, then only the connected marks that carry real ink);
/// 5. thicken strokes that would end up thinner than MNIST's pen (about 2 pixels), working
///    at four times the final resolution;
/// 6. scale to fit a 20×20 box keeping the aspect ratio, with area averaging;
/// 7. place in 28×28 so that the centre of mass sits at (14, 14).
///
/// The result is 784 values, 0 background … 255 ink, row-major.
public enum DigitPreparation {
    /// Side of the prepared picture.
    public static let side = 28
    /// Side of the box the digit is scaled to fit, as in MNIST.
    public static let box = 20
    /// Where the centre of mass is placed (pixel index coordinates); MNIST's mean is (14.0, 14.0).
    public static let centre = 14.0
    /// Strokes thinner than this (in prepared pixels) are thickened, since MNIST's are 2–3.
    public static let minimumStrokeWidth = 2.0

    // MARK: - Preparing

    /// The prepared 28×28 digit (784 values, 0 background … 255 ink).
    /// - Throws: `ImageError` of kind `.blank` (naming `source`) when there is no ink.
    public static func prepare(_ image: Image, source: String = "image") throws(ImageError) -> [UInt8] {
        try analyse(image, source: source).pixels
    }

    #if !hasFeature(Embedded)  // no files in the WebAssembly module (Wasm/)
    /// Reads a PNG or JPEG file and prepares its digit.
    /// - Throws: whatever `ImageIO.read` throws, or `.blank` naming the file.
    public static func prepare(contentsOf url: URL) throws(ImageError) -> [UInt8] {
        let image = try ImageIO.read(url)
        return try prepare(image, source: url.path)
    }
    #endif

    /// The prepared digit together with what was found on the way.
    public static func analyse(_ image: Image, source: String = "image") throws(ImageError) -> PreparedDigit {
        // 1. Greyscale, working on at most 1024 pixels per side (plenty for a 20-pixel digit).
        var width = image.width, height = image.height
        var grey = greyscale(image)
        let longest = max(width, height)
        var scaleBack = 1.0
        if longest > 1024 {
            let factor = 1024.0 / Double(longest)
            let newWidth = max(1, Int((Double(width) * factor).rounded()))
            let newHeight = max(1, Int((Double(height) * factor).rounded()))
            grey = Resampling.resize(grey, width: width, height: height, toWidth: newWidth, toHeight: newHeight)
            scaleBack = Double(longest) / 1024.0
            width = newWidth
            height = newHeight
        }
        let smooth = InkAnalysis.boxBlur3(grey, width: width, height: height)

        // 2–3. Background plane and noise level; polarity from which side has more ink beyond the noise.
        let background = InkAnalysis.fitBackground(smooth, width: width, height: height)
        let noise = background.noise
        let n = width * height
        // Every value is written below: the arrays are not cleared first.
        var detect = [Float](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }  // smoothed, minus the background
        var raw = [Float](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }     // unsmoothed, minus the background
        let margin = max(3 * noise, 4)
        var darkMass: Float = 0, brightMass: Float = 0
        var lowest = Float.infinity, highest = -Float.infinity
        var lowest8 = SIMD8<Float>(repeating: .infinity), highest8 = SIMD8<Float>(repeating: -.infinity)
        // The level of (x, y) is Float(a + columnTerms[x] + rowTerms[y]), summed left to right.
        let a = background.a
        let columnLevels = background.columnTerms.map { a + $0 }, rowTerms = background.rowTerms
        grey.withUnsafeBufferPointer { grey in
            smooth.withUnsafeBufferPointer { smooth in
                detect.withUnsafeMutableBufferPointer { detect in
                    raw.withUnsafeMutableBufferPointer { raw in
                        columnLevels.withUnsafeBufferPointer { columnLevels in
                            for y in 0..<height {
                                let line = y * width, rowTerm = rowTerms[y]
                                for x in 0..<width {  // vectorised: no sum carried from pixel to pixel
                                    let i = line &+ x
                                    let level = Float(columnLevels[x] + rowTerm)
                                    detect[i] = smooth[i] - level
                                    raw[i] = grey[i] - level
                                }
                                // The masses in pixel order, as the plain version sums; eight
                                // pixels at a time where none is beyond the margin (most of a page).
                                var i = line
                                let end = line &+ width
                                while i < end {
                                    if i &+ 8 <= end, let base = detect.baseAddress {
                                        let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                                        lowest8.replace(with: v, where: v .< lowest8)
                                        highest8.replace(with: v, where: v .> highest8)
                                        if !any((v .> margin) .| (-v .> margin)) { i &+= 8; continue }
                                        for k in i..<(i &+ 8) {
                                            let v = detect[k]
                                            if v > margin { brightMass += v - margin } else if -v > margin { darkMass += -v - margin }
                                        }
                                        i &+= 8
                                        continue
                                    }
                                    let v = detect[i]
                                    lowest = v < lowest ? v : lowest
                                    highest = v > highest ? v : highest
                                    if v > margin { brightMass += v - margin } else if -v > margin { darkMass += -v - margin }
                                    i &+= 1
                                }
                            }
                        }
                    }
                }
            }
        }
        // Ink made positive: `sign * v` (exact) instead of a negated copy; the strongest mark is
        // the largest `sign * v`, that is -lowest when the ink was dark. (Which of 0 and -0 is
        // kept can differ from the plain version's; a peak of 0 is refused as blank either way.)
        for k in 0..<8 {
            lowest = lowest8[k] < lowest ? lowest8[k] : lowest
            highest = highest8[k] > highest ? highest8[k] : highest
        }
        let inkWasDark = darkMass > brightMass
        let sign: Float = inkWasDark ? -1 : 1
        let peak = inkWasDark ? -lowest : highest

        // A blank page: nothing stands out of the noise.
        let required = max(20, 6 * noise)
        if peak < required {
            throw ImageError(file: source, kind: .blank,
                             detail: "the strongest mark has a contrast of \(Int(peak.rounded())) of 255")
        }

        // 4. The marks that carry real ink, and their bounding box.
        let threshold = max(0.35 * peak, 4 * noise)
        let (keep, inkBox) = InkAnalysis.inkMaskAndBox(detect, width: width, height: height, threshold: threshold, sign: sign)
        guard let bounds = inkBox else {
            throw ImageError(file: source, kind: .blank, detail: "no connected ink")
        }

        // The ink level most marked pixels reach becomes 255 (MNIST's pen is saturated).
        var marked: [Double] = []
        keep.withUnsafeBufferPointer { keep in
            raw.withUnsafeBufferPointer { raw in
                for y in bounds.y..<bounds.maxY {
                    for i in (y * width + bounds.x)..<(y * width + bounds.maxX) where keep[i] != 0 {
                        marked.append(Double(sign * raw[i]))
                    }
                }
            }
        }
        let keptCount = marked.count
        let level90 = marked.isEmpty ? peak : Float(InkAnalysis.quantile(marked, 0.9))
        let inkLevel = max(level90, threshold, 1)
        let rawNoise = InkAnalysis.noiseLevel(grey, width: width, height: height, distance: 2)
        let floor = min(2.5 * rawNoise, 0.3 * inkLevel)

        // Crop, keeping only pixels near the kept marks (specks inside the box go too).
        let cropCount = bounds.width * bounds.height
        var cropKeep = [UInt8](repeating: 0, count: cropCount)
        keep.withUnsafeBufferPointer { keep in
            cropKeep.withUnsafeMutableBufferPointer { cropKeep in
                for y in 0..<bounds.height {
                    let from = (bounds.y + y) * width + bounds.x, to = y * bounds.width
                    for x in 0..<bounds.width { cropKeep[to &+ x] = keep[from &+ x] }
                }
            }
        }
        let near = InkAnalysis.dilate(cropKeep, width: bounds.width, height: bounds.height, radius: 2)
        var crop = [Float](repeating: 0, count: cropCount)
        near.withUnsafeBufferPointer { near in
            raw.withUnsafeBufferPointer { raw in
                crop.withUnsafeMutableBufferPointer { crop in
                    for y in 0..<bounds.height {
                        let from = (bounds.y + y) * width + bounds.x, to = y * bounds.width
                        for x in 0..<bounds.width where near[to &+ x] != 0 {
                            crop[to &+ x] = ((sign * raw[from &+ x] - floor) / (inkLevel - floor)).clamped(to: 0...1)
                        }
                    }
                }
            }
        }

        // 5. At four times the final resolution, thicken strokes that would come out thinner than MNIST's.
        let detail = 4 * box
        let detailScale = Double(detail) / Double(max(bounds.width, bounds.height))
        let detailWidth = Int((Double(bounds.width) * detailScale).rounded()).clamped(to: 1...detail)
        let detailHeight = Int((Double(bounds.height) * detailScale).rounded()).clamped(to: 1...detail)
        var work = Resampling.resize(crop, width: bounds.width, height: bounds.height,
                                     toWidth: detailWidth, toHeight: detailHeight)
        let strokeWidth = InkAnalysis.strokeWidth(work, width: detailWidth,
                                                  bounds: PixelRect(x: 0, y: 0, width: detailWidth, height: detailHeight))
        let toBox = Double(box) / Double(detail)
        var grow = 0
        if strokeWidth * toBox < minimumStrokeWidth {
            let wanted = ((minimumStrokeWidth + 0.3) / toBox - strokeWidth) / 2
            grow = Int(wanted.rounded(.up)).clamped(to: 0...(detail / 10))
        }
        var workWidth = detailWidth, workHeight = detailHeight
        if grow > 0 {
            let paddedWidth = detailWidth + 2 * grow, paddedHeight = detailHeight + 2 * grow
            var padded = [Float](repeating: 0, count: paddedWidth * paddedHeight)
            for y in 0..<detailHeight {
                for x in 0..<detailWidth { padded[(y + grow) * paddedWidth + x + grow] = work[y * detailWidth + x] }
            }
            work = InkAnalysis.maxFilter(padded, width: paddedWidth, height: paddedHeight, radius: grow)
            workWidth = paddedWidth
            workHeight = paddedHeight
        }

        // 6. Fit into 20×20, keeping the aspect ratio.
        let fitScale = Double(box) / Double(max(workWidth, workHeight))
        let fittedWidth = Int((Double(workWidth) * fitScale).rounded()).clamped(to: 1...box)
        let fittedHeight = Int((Double(workHeight) * fitScale).rounded()).clamped(to: 1...box)
        let fitted = Resampling.resize(work, width: workWidth, height: workHeight,
                                       toWidth: fittedWidth, toHeight: fittedHeight)

        // 7. Centre of mass to (14, 14).
        let pixels = place(fitted, width: fittedWidth, height: fittedHeight)
        let boxX = Int((Double(bounds.x) * scaleBack).rounded(.down)).clamped(to: 0...(image.width - 1))
        let boxY = Int((Double(bounds.y) * scaleBack).rounded(.down)).clamped(to: 0...(image.height - 1))
        let sourceBox = PixelRect(
            x: boxX, y: boxY,
            width: Int((Double(bounds.width) * scaleBack).rounded()).clamped(to: 1...(image.width - boxX)),
            height: Int((Double(bounds.height) * scaleBack).rounded()).clamped(to: 1...(image.height - boxY)))
        let inkPixels = Double(keptCount) * scaleBack * scaleBack
        return PreparedDigit(pixels: pixels, inkWasDark: inkWasDark, inkBox: sourceBox,
                             contrast: Double(inkLevel), strokeWidth: strokeWidth / detailScale * scaleBack,
                             thickened: grow > 0, imageWidth: image.width, imageHeight: image.height,
                             inkPixels: Int(inkPixels.rounded()))
    }

    /// Places a fitted digit (values 0…1, at most 20×20) in 28×28 with its centre of mass at `centre`.
    static func place(_ fitted: [Float], width: Int, height: Int) -> [UInt8] {
        var mass: Double = 0, sumX: Double = 0, sumY: Double = 0
        for y in 0..<height {
            for x in 0..<width {
                let v = Double(fitted[y * width + x])
                mass += v
                sumX += v * Double(x)
                sumY += v * Double(y)
            }
        }
        let comX = mass > 0 ? sumX / mass : Double(width - 1) / 2
        let comY = mass > 0 ? sumY / mass : Double(height - 1) / 2
        let left = Int((centre - comX).rounded()).clamped(to: 0...(side - width))
        let top = Int((centre - comY).rounded()).clamped(to: 0...(side - height))
        var out = [UInt8](repeating: 0, count: side * side)
        for y in 0..<height {
            for x in 0..<width {
                let v = (fitted[y * width + x] * 255).rounded().clamped(to: 0...255)
                out[(top + y) * side + left + x] = UInt8(v)
            }
        }
        return out
    }

    // MARK: - The naive approach

    /// What `naiveResize` does about polarity.
    public enum NaivePolarity: Sendable {
        /// Invert when the image's mean grey is above the middle (a light page).
        case invertIfLight
        /// Always invert (assume dark ink on light paper).
        case alwaysInvert
        /// Never invert.
        case asIs
    }

    /// The naive approach, for comparison: the whole image resized to 28×28 (area averaging; no
    /// cropping, no aspect ratio, no centring, no background removal), greyscale, with at most a
    /// global inversion.
    public static func naiveResize(_ image: Image, polarity: NaivePolarity = .invertIfLight) -> [UInt8] {
        let grey = greyscale(image)
        let small = Resampling.resize(grey, width: image.width, height: image.height, toWidth: side, toHeight: side)
        let mean = grey.reduce(0, +) / Float(max(1, grey.count))
        let invert: Bool
        switch polarity {
        case .invertIfLight: invert = mean > 127.5
        case .alwaysInvert: invert = true
        case .asIs: invert = false
        }
        return small.map { v in UInt8((invert ? 255 - v : v).rounded().clamped(to: 0...255)) }
    }

    // MARK: - Greyscale

    /// Grey levels 0…255 (Rec. 601 luma), row-major. Transparent pixels become background: when
    /// most of the image is transparent they take the level opposite to the visible marks,
    /// otherwise the level of the visible page.
    public static func greyscale(_ image: Image) -> [Float] {
        let n = image.pixelCount, channels = image.channels
        var luma = [Float](repeating: 0, count: n)
        var leastAlpha: UInt8 = 255
        image.pixels.withUnsafeBufferPointer { samples in
            luma.withUnsafeMutableBufferPointer { luma in
                switch channels {
                case 1, 2:
                    for p in 0..<n { luma[p] = Float(samples[p &* channels]) }
                    if channels == 2 {
                        for p in 0..<n { leastAlpha = min(leastAlpha, samples[p &* 2 &+ 1]) }
                    }
                case 3:
                    // A pixel equal to the one before (most of a page or a canvas) has its luma.
                    var last: (UInt8, UInt8, UInt8)? = nil, value: Float = 0
                    for p in 0..<n {
                        let i = p &* 3
                        let r = samples[i], g = samples[i &+ 1], b = samples[i &+ 2]
                        if let l = last, l == (r, g, b) { luma[p] = value; continue }
                        value = 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)
                        last = (r, g, b)
                        luma[p] = value
                    }
                default:
                    // RGBA, a pixel as one 32-bit word: equal to the one before, the same luma and alpha.
                    guard let base = UnsafeRawPointer(samples.baseAddress) else { return }
                    var last: UInt32 = 0, value: Float = 0, first = true
                    for p in 0..<n {
                        let word = base.loadUnaligned(fromByteOffset: p &* 4, as: UInt32.self)
                        if word == last && !first { luma[p] = value; continue }
                        first = false
                        last = word
                        let i = p &* 4
                        value = 0.299 * Float(samples[i]) + 0.587 * Float(samples[i &+ 1]) + 0.114 * Float(samples[i &+ 2])
                        leastAlpha = min(leastAlpha, samples[i &+ 3])
                        luma[p] = value
                    }
                }
            }
        }
        guard leastAlpha < 255 else { return luma }
        let alpha = (0..<n).map { Float(image.pixels[$0 * channels + channels - 1]) }
        var visible: [Float] = []
        var transparent = 0
        for p in 0..<n {
            if alpha[p] >= 128 { visible.append(luma[p]) } else { transparent += 1 }
        }
        visible.sort()
        let visibleMedian: Float = visible.isEmpty ? 255 : visible[visible.count / 2]
        let backdrop: Float
        if transparent * 2 > n {
            backdrop = visibleMedian < 128 ? 255 : 0  // the visible marks are the ink
        } else {
            backdrop = visibleMedian  // the visible part is the page
        }
        for p in 0..<n {
            let a = alpha[p] / 255
            luma[p] = luma[p] * a + backdrop * (1 - a)
        }
        return luma
    }
}

// MARK: - PreparedDigit

/// A prepared digit and what preparation found.
public struct PreparedDigit: Equatable, Sendable {
    /// 784 values, 0 background … 255 ink, row-major 28×28.
    public var pixels: [UInt8]
    /// Whether the ink was darker than the page (and so was inverted).
    public var inkWasDark: Bool
    /// The ink's bounding box in the source image.
    public var inkBox: PixelRect
    /// The ink's contrast against the page (0…255 grey levels).
    public var contrast: Double
    /// Estimated stroke width in source pixels.
    public var strokeWidth: Double
    /// Whether thin strokes were thickened.
    public var thickened: Bool
    /// The source image's size.
    public var imageWidth: Int = 0, imageHeight: Int = 0
    /// Source pixels that carry ink (about).
    public var inkPixels: Int = 0

    /// Fewer ink pixels than this, or an ink box whose longer side is below
    /// ``minimumInkFraction`` of the image's longer side, is too little ink to be a digit.
    public static let minimumInkPixels = 12
    /// See ``minimumInkPixels``.
    public static let minimumInkFraction = 0.04
    /// Ink wider than this many times its height has no digit's shape (a digit is at most
    /// about as wide as it is tall).
    public static let maximumInkAspect = 3.0

    /// Reasons to doubt that the picture holds a digit at all, for a warning: too little ink,
    /// or ink of no digit's shape. Empty when the ink looks like a digit.
    public var warnings: [String] {
        var found: [String] = []
        let longestInk = max(inkBox.width, inkBox.height)
        let longestImage = max(imageWidth, imageHeight)
        if inkPixels < Self.minimumInkPixels || Double(longestInk) < Self.minimumInkFraction * Double(longestImage) {
            found.append("too little ink: a mark of \(inkBox.width)×\(inkBox.height) pixels on a \(imageWidth)×\(imageHeight) picture may not be a digit")
        } else if Double(inkBox.width) > Self.maximumInkAspect * Double(inkBox.height) {
            found.append("the ink (\(inkBox.width)×\(inkBox.height) pixels) is much wider than tall: no digit has that shape")
        }
        return found
    }
}

// MARK: - Helpers

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
