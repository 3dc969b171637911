import DigitsCore
import DigitsVision
import Foundation

/// Realistic checks for a reader: sets of pictures of several kinds, each made the way people's
/// digits reach Digits, each read through the same preparation as `digits predict`.
///
/// No real handwriting beyond MNIST is available here, so the handwriting kinds are made from
/// MNIST *test* digits (which no preset trains on) and from `SyntheticHandwriting`: the digit
/// is drawn as ink on a page (pen, pencil, marker), slanted, shrunk into a small blurry form
/// field, photographed (perspective, uneven light, paper grain, JPEG). The font set is rendered
/// from the system's TrueType fonts by `scripts/make-font-checks.py` and committed. The
/// non-digit set holds scribbles, a smudge on a blank page, a dot, lines and letters; a reading
/// of it should be flagged (a warning, or the picture refused).
public enum RealisticChecks {
    /// The kinds of set, in the order the table lists them.
    public enum Kind: String, CaseIterable, Sendable {
        case penPhoto = "pen-photo", pencilPhoto = "pencil-photo", formField = "form-field",
             marker, slanted, styles, fonts, nonDigits = "non-digits"

        /// One line: what the set holds.
        public var summary: String {
            switch self {
            case .penPhoto: "MNIST test digits in blue or black pen on paper, photographed: perspective, uneven light, paper grain, JPEG"
            case .pencilPhoto: "MNIST test digits in grainy grey pencil, photographed with uneven light, JPEG"
            case .formField: "MNIST test digits shrunk into small blurry form fields (10-16 px tall), scanned grey, JPEG"
            case .marker: "MNIST test digits in thick marker (strokes dilated 2-4 px at 28×28 scale) on paper"
            case .slanted: "MNIST test digits slanted by 17-27° either way, in pen on paper"
            case .styles: "SyntheticHandwriting: digits drawn from stroke skeletons in many writing styles, sizes and colours"
            case .fonts: "digits rendered from the DejaVu and Liberation TrueType fonts, photo-like (scripts/make-font-checks.py)"
            case .nonDigits: "not digits: scribbles, a smudge on a blank page, a dot, lines, letters and symbols (should be flagged)"
            }
        }
    }

    /// One picture of a set: the file bytes (PNG or JPEG), and its digit (nil for a non-digit).
    public struct Sample: Sendable {
        public var bytes: [UInt8]
        public var label: Int?
        public var name: String
    }

    // MARK: - Making the sets

    /// The set of `kind`: `count` pictures (the fonts set is what the committed folder holds),
    /// made from `mnistTest` (test images and labels) with `seed`. Deterministic.
    public static func makeSet(_ kind: Kind, count: Int, seed: UInt64, mnistTest: Dataset,
                               committed: URL? = fontChecksDirectory) throws(AppError) -> [Sample] {
        var rng = RandomSource(seed: seed &+ UInt64(Kind.allCases.firstIndex(of: kind) ?? 0) &* 1_000_003)
        switch kind {
        case .styles:
            return SyntheticHandwriting.makeSet(count: count, seed: seed).enumerated().map {
                Sample(bytes: $0.element.fileData, label: $0.element.label, name: "styles-\($0.offset).\($0.element.fileExtension)")
            }
        case .fonts:
            return try readCommitted(committed, prefix: "digit", limit: count)
        case .nonDigits:
            // Scribbles, smudges, dots and lines, and every fifth a committed letter or symbol.
            let letters = try readCommitted(committed, prefix: "letter", limit: 1000)
            return (0..<count).map { i in
                i % 5 == 4 && !letters.isEmpty ? letters[(i / 5) % letters.count] : makeNonDigit(i, rng: &rng)
            }
        default:
            return (0..<count).map { i in
                let index = rng.index(below: mnistTest.count)
                let digit = Array(mnistTest.features[(index * 784)..<((index + 1) * 784)])
                let label = Int(mnistTest.labels[index])
                return Sample(bytes: render(digit, kind: kind, rng: &rng), label: label, name: "\(kind.rawValue)-\(i)-mnist-\(index)")
            }
        }
    }

    /// The committed font-rendered pictures: `Resources/reader/checks/`, beside the shipped reader.
    public static var fontChecksDirectory: URL? {
        ShippedReader.directory?.appendingPathComponent("checks")
    }

    /// Files `PREFIX-LABEL-….png` (a digit) or `letter-….png` of `directory`, sorted by name.
    static func readCommitted(_ directory: URL?, prefix: String, limit: Int) throws(AppError) -> [Sample] {
        guard let directory else { throw AppError("the committed check pictures were not found (they are bundled with the shipped reader)") }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(prefix + "-") }.sorted() } catch {
            throw AppError("cannot list \(directory.path): \(error.localizedDescription)")
        }
        var out: [Sample] = []
        for name in names.prefix(limit) {
            let data: Data
            do { data = try Data(contentsOf: directory.appendingPathComponent(name)) } catch {
                throw AppError("cannot read \(directory.appendingPathComponent(name).path): \(error.localizedDescription)")
            }
            let parts = name.split(separator: "-")
            let label = prefix == "digit" && parts.count > 1 ? Int(parts[1]) : nil
            out.append(Sample(bytes: [UInt8](data), label: label, name: name))
        }
        return out
    }

    // MARK: - Drawing a digit on a page

    /// An RGB picture of an MNIST digit (784 bytes, ink bright) as `kind` makes it, encoded.
    static func render(_ digit: [UInt8], kind: Kind, rng: inout RandomSource) -> [UInt8] {
        var ink = digit.map { Float($0) / 255 }
        var spare = [Float](repeating: 0, count: 784)
        var size = 28 * 5, digitScale: Float = 5, blurPasses = 0
        var shear: Float = rng.uniform(-0.1, 0.1), perspective: Float = 0
        var inkColour: (Float, Float, Float) = rng.nextUnit() < 0.5 ? (0.1, 0.15, 0.55) : (0.08, 0.08, 0.1)
        var inkStrength: Float = 0.95, grain: Float = 0, light: Float = 0.15, paperNoise: Float = 3
        var quality = 85
        switch kind {
        case .penPhoto:
            perspective = 0.15; light = 0.45; paperNoise = 6; quality = 55 + rng.index(below: 35)
            size = 28 * rng.index(below: 4) + 112
            digitScale = Float(size) / 28 * rng.uniform(0.55, 0.85)
        case .pencilPhoto:
            inkColour = (0.3, 0.3, 0.32); inkStrength = rng.uniform(0.45, 0.75); grain = 0.5
            perspective = 0.1; light = 0.4; paperNoise = 5; quality = 60 + rng.index(below: 30)
            digitScale = Float(size) / 28 * rng.uniform(0.6, 0.85)
        case .formField:
            let height = 10 + rng.index(below: 7)
            size = height + 6 + rng.index(below: 6)
            digitScale = Float(height) / 20
            blurPasses = 1 + rng.index(below: 2); inkStrength = rng.uniform(0.6, 0.9)
            inkColour = (0.15, 0.15, 0.15); light = 0.1; paperNoise = 4; quality = 50 + rng.index(below: 40)
        case .marker:
            let passes = 1 + rng.index(below: 2)
            for _ in 0..<passes {
                ink.withUnsafeBufferPointer { src in GreyMorphology.dilate(src.baseAddress!, height: 28, width: 28, into: &spare) }
                swap(&ink, &spare)
            }
            inkColour = [(0.05, 0.05, 0.05), (0.6, 0.05, 0.05), (0.05, 0.35, 0.1)][rng.index(below: 3)]
            light = 0.25
        case .slanted:
            shear = (rng.nextUnit() < 0.5 ? -1 : 1) * rng.uniform(0.3, 0.5)
        default: break
        }
        // Output pixel → digit coordinates: centre, undo perspective, undo scale and slant.
        let w = size, h = size
        let px = rng.uniform(-perspective, perspective) / Float(w), py = rng.uniform(-perspective, perspective) / Float(h)
        let rotation = rng.uniform(-0.08, 0.08), cosR = Float(cos(Double(rotation))), sinR = Float(sin(Double(rotation)))
        let paper = (rng.uniform(0.85, 0.97), rng.uniform(0.84, 0.96), rng.uniform(0.78, 0.93))
        let lightAngle = rng.uniform(0, 2 * .pi), lightDX = Float(cos(Double(lightAngle))), lightDY = Float(sin(Double(lightAngle)))
        let offsetX = rng.uniform(-0.08, 0.08) * Float(w), offsetY = rng.uniform(-0.08, 0.08) * Float(h)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var alpha = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var u = Float(x) - Float(w) / 2 - offsetX, v = Float(y) - Float(h) / 2 - offsetY
                let q = 1 + px * u + py * v
                u /= q; v /= q
                let ru = cosR * u + sinR * v, rv = -sinR * u + cosR * v
                let sx = (ru + shear * rv) / digitScale + 13.5, sy = rv / digitScale + 13.5
                alpha[y * w + x] = bilinear(ink, sx, sy)
            }
        }
        for _ in 0..<blurPasses {
            alpha.withUnsafeMutableBufferPointer { a in
                var scratch = [Float](repeating: 0, count: w * h)
                Degradation.blur(a.baseAddress!, height: h, width: w, scratch: &scratch)
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var a = min(alpha[y * w + x], 1) * inkStrength
                if grain > 0 { a *= 1 - grain * rng.nextUnit() }
                let lx = (Float(x) / Float(w) - 0.5) * lightDX + (Float(y) / Float(h) - 0.5) * lightDY
                let lit = 1 - light * (lx + 0.5)
                let noise = (rng.nextUnit() + rng.nextUnit() - 1) * paperNoise * 2.45 / 255
                let c = [paper.0, paper.1, paper.2], k = [inkColour.0, inkColour.1, inkColour.2]
                for ch in 0..<3 {
                    let value = ((1 - a) * c[ch] + a * k[ch]) * lit + noise
                    pixels[(y * w + x) * 3 + ch] = UInt8(min(max(value * 255, 0), 255).rounded())
                }
            }
        }
        let picture = Image(width: w, height: h, channels: 3, pixels: pixels) ?? Image(width: 1, height: 1, channels: 3)
        return (try? ImageIO.jpegData(picture, quality: quality)) ?? ((try? ImageIO.pngData(picture)) ?? [])
    }

    static func bilinear(_ image: [Float], _ x: Float, _ y: Float) -> Float {
        let x0f = x.rounded(.down), y0f = y.rounded(.down)
        guard x0f >= -1, x0f < 28, y0f >= -1, y0f < 28 else { return 0 }
        let x0 = Int(x0f), y0 = Int(y0f), fx = x - x0f, fy = y - y0f
        func at(_ x: Int, _ y: Int) -> Float { x >= 0 && x < 28 && y >= 0 && y < 28 ? image[y * 28 + x] : 0 }
        let top = at(x0, y0) + fx * (at(x0 + 1, y0) - at(x0, y0))
        let bottom = at(x0, y0 + 1) + fx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1))
        return top + fy * (bottom - top)
    }

    // MARK: - Things that are not digits

    /// Scribbles, a smudge on a blank page, a dot, a line: dark ink on a light page, 96×96 PNG.
    static func makeNonDigit(_ i: Int, rng: inout RandomSource) -> Sample {
        let w = 96, h = 96
        var ink = [Float](repeating: 0, count: w * h)
        func stamp(_ cx: Float, _ cy: Float, radius r: Float, strength: Float = 1) {
            let x0 = max(0, Int(cx - r - 1)), x1 = min(w - 1, Int(cx + r + 1))
            let y0 = max(0, Int(cy - r - 1)), y1 = min(h - 1, Int(cy + r + 1))
            guard x0 <= x1, y0 <= y1 else { return }
            for y in y0...y1 {
                for x in x0...x1 {
                    let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
                    let a = min(max(r + 0.5 - d, 0), 1) * strength
                    ink[y * w + x] = max(ink[y * w + x], a)
                }
            }
        }
        func line(_ ax: Float, _ ay: Float, _ bx: Float, _ by: Float, radius: Float) {
            let steps = Int(max(abs(bx - ax), abs(by - ay))) + 1
            for s in 0...steps {
                let t = Float(s) / Float(steps)
                stamp(ax + t * (bx - ax), ay + t * (by - ay), radius: radius)
            }
        }
        let kind = ["scribble", "smudge", "dot", "line"][i % 4]
        let pen = rng.uniform(1.5, 4)
        switch kind {
        case "scribble":
            var x = rng.uniform(30, 66), y = rng.uniform(30, 66), angle = rng.uniform(0, 2 * .pi)
            for _ in 0..<(25 + rng.index(below: 40)) {
                angle += rng.uniform(-1.6, 1.6)
                let nx = min(max(x + 6 * Float(cos(Double(angle))), 8), 88), ny = min(max(y + 6 * Float(sin(Double(angle))), 8), 88)
                line(x, y, nx, ny, radius: pen)
                x = nx; y = ny
            }
        case "smudge":
            let cx = rng.uniform(25, 71), cy = rng.uniform(25, 71), r = rng.uniform(4, 12)
            stamp(cx, cy, radius: r, strength: rng.uniform(0.08, 0.25))
        case "dot":
            stamp(rng.uniform(20, 76), rng.uniform(20, 76), radius: rng.uniform(1.5, 4))
        default:
            let angle = rng.uniform(0, .pi), length = rng.uniform(50, 85)
            let cx = rng.uniform(40, 56), cy = rng.uniform(40, 56)
            let dx = Float(cos(Double(angle))) * length / 2, dy = Float(sin(Double(angle))) * length / 2
            line(cx - dx, cy - dy, cx + dx, cy + dy, radius: pen)
        }
        let paper = rng.uniform(0.85, 0.97)
        var pixels = [UInt8](repeating: 0, count: w * h)
        for j in 0..<(w * h) {
            let noise = (rng.nextUnit() + rng.nextUnit() - 1) * 4 / 255
            pixels[j] = UInt8(min(max(((1 - ink[j]) * paper + ink[j] * 0.1 + noise) * 255, 0), 255).rounded())
        }
        let picture = Image(width: w, height: h, channels: 1, pixels: pixels) ?? Image(width: 1, height: 1, channels: 1)
        return Sample(bytes: (try? ImageIO.pngData(picture)) ?? [], label: nil, name: "non-digit-\(i)-\(kind)")
    }

    // MARK: - Reading a set

    /// How a model did on one set.
    public struct Result: Sendable {
        public var kind: Kind
        public var count: Int
        /// Digits read right (for a digit set).
        public var correct: Int
        /// Pictures flagged: a warning (low certainty, too little ink, no digit's shape) or refused.
        public var flagged: Int
        /// Of those read right, the ones flagged anyway (for a digit set).
        public var meanConfidence: Double
        public var accuracy: Double { count > 0 ? Double(correct) / Double(count) : 0 }
        public var flaggedFraction: Double { count > 0 ? Double(flagged) / Double(count) : 0 }
    }

    /// Reads every sample through `digits predict`'s preparation and counts.
    public static func evaluate(_ model: TrainedModel, kind: Kind, samples: [Sample], modelPath: String) throws(AppError) -> Result {
        var result = Result(kind: kind, count: samples.count, correct: 0, flagged: 0, meanConfidence: 0)
        var confidenceSum = 0.0
        for sample in samples {
            let reading: Reading
            do { reading = try model.reading(imageBytes: sample.bytes, name: sample.name, modelPath: modelPath) } catch {
                result.flagged += 1          // refused (a blank page, …): not read as a digit
                continue
            }
            confidenceSum += Double(reading.prediction.confidence)
            if !reading.warnings.isEmpty { result.flagged += 1 }
            if let label = sample.label, reading.prediction.digit == label { result.correct += 1 }
        }
        result.meanConfidence = samples.isEmpty ? 0 : confidenceSum / Double(samples.count)
        return result
    }
}

// MARK: - Tuning the flag

extension RealisticChecks {
    /// The kinds drawn from MNIST digits, which validation images can be drawn into too.
    public static let drawnKinds: [Kind] = [.penPhoto, .pencilPhoto, .formField, .marker, .slanted]

    /// The certainty below which readings are flagged, tuned on validation pictures: `digits`
    /// (held-out training images, never the test set) drawn into every drawn kind, and generated
    /// non-digits (no letters: those are kept for the check), with `seed`. The threshold is the
    /// highest of 0.30, 0.31, … 0.99 that flags at most `maximumDigitsFlagged` of the validation
    /// digits (so that real digits are rarely doubted), and so flags as many non-digits as that
    /// allows. Returns it with both fractions at it.
    public static func tuneFlagThreshold(_ model: TrainedModel, digits: Dataset, perKind: Int = 200,
                                         maximumDigitsFlagged: Double = 0.02, flagDisagreement: Bool = false,
                                         seed: UInt64) throws(AppError) -> (threshold: Float, digitsFlagged: Double, nonDigitsFlagged: Double) {
        // Each picture's certainty and whether its views agree, or nil when preparation already
        // flags it (or refuses it).
        func certainties(_ samples: [Sample]) -> [(certainty: Float, viewsAgree: Bool)?] {
            samples.map { sample in
                guard let r = try? model.reading(imageBytes: sample.bytes, name: sample.name, modelPath: "validation"),
                      r.warnings.allSatisfy({ $0.hasPrefix("low certainty") || $0.hasPrefix(TrainedModel.disagreementWarning) }) else { return nil }
                return (r.prediction.confidence, r.prediction.viewsAgree)
            }
        }
        var digitCertainties: [(certainty: Float, viewsAgree: Bool)?] = []
        for kind in drawnKinds {
            digitCertainties += certainties(try makeSet(kind, count: perKind, seed: seed, mnistTest: digits, committed: nil))
        }
        var rng = RandomSource(seed: seed)
        let nonDigitCertainties = certainties((0..<perKind).map { makeNonDigit($0, rng: &rng) })
        func flagged(_ c: [(certainty: Float, viewsAgree: Bool)?], below t: Float) -> Double {
            Double(c.filter { $0 == nil || $0!.certainty < t || (flagDisagreement && !$0!.viewsAgree) }.count) / Double(max(c.count, 1))
        }
        var best: (threshold: Float, digitsFlagged: Double, nonDigitsFlagged: Double) =
            (0.3, flagged(digitCertainties, below: 0.3), flagged(nonDigitCertainties, below: 0.3))
        for step in 30...99 {
            let t = Float(step) / 100
            let d = flagged(digitCertainties, below: t)
            if d <= maximumDigitsFlagged { best = (t, d, flagged(nonDigitCertainties, below: t)) }
        }
        return best
    }
}
