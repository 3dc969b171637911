import Foundation
import Testing
@testable import DigitsVision

// MARK: - The fast preparation against the plain one

/// `DigitPreparation` (flat buffers, separable filters) must give bit-identical results to
/// `ReferencePreparation` (the plain version it replaced): the same 784 bytes and the same
/// measurements, or the same error, on every input.
@Suite("fast preparation equals the reference")
struct FastPreparationTests {
    /// Both preparations of `image`: equal results, or equal errors.
    static func expectAgreement(_ image: Image, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = Result { () throws(ImageError) -> PreparedDigit in try DigitPreparation.analyse(image, source: what) }
        let plain = Result { () throws(ImageError) -> PreparedDigit in try ReferencePreparation.analyse(image, source: what) }
        switch (fast, plain) {
        case let (.success(a), .success(b)):
            #expect(a == b, "\(what): fast \(a.inkBox) contrast \(a.contrast) stroke \(a.strokeWidth), plain \(b.inkBox) contrast \(b.contrast) stroke \(b.strokeWidth)",
                    sourceLocation: sourceLocation)
        case let (.failure(a), .failure(b)):
            #expect(a == b, "\(what): fast says \(a), plain says \(b)", sourceLocation: sourceLocation)
        default:
            Issue.record("\(what): fast \(fast), plain \(plain)", sourceLocation: sourceLocation)
        }
    }

    /// A grey image from samples.
    static func grey(_ width: Int, _ height: Int, _ pixels: [UInt8]) -> Image {
        Image(width: width, height: height, channels: 1, pixels: pixels)!
    }

    @Test("synthetic handwriting: every colour layout, both polarities, PNG and JPEG, noise, gradients",
          arguments: [11, 2024] as [UInt64])
    func synthetic(seed: UInt64) {
        for (index, sample) in SyntheticHandwriting.makeSet(count: 10, seed: seed).enumerated() {
            Self.expectAgreement(sample.image, "seed \(seed) sample \(index) (\(sample.style))")
        }
    }

    @Test("the photo in docs/ (1200×900 JPEG: the downscaling path)")
    func photo() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/photo-of-a-4.jpg").standardizedFileURL
        let image = try ImageIO.read(url)
        #expect(max(image.width, image.height) > 1024)
        Self.expectAgreement(image, "photo-of-a-4.jpg")
    }

    @Test("drawings as the studio page sends them: 280×280, dark strokes on white, thin and thick", arguments: 0..<6)
    func drawings(seed: Int) {
        var random = SeededRandom(seed: UInt64(1000 + seed))
        var canvas = Canvas(width: 280, height: 280, background: .white)
        let strokes = random.integer(1...3)
        let width = seed % 3 == 0 ? 2.0 : random.uniform(6...28)  // every third thin enough to be thickened
        for _ in 0..<strokes {
            let points = (0..<random.integer(2...6)).map { _ in SIMD2(random.uniform(30...250), random.uniform(30...250)) }
            canvas.polyline(points, Color(17, 17, 17), lineWidth: width)
        }
        let image = canvas.image
        Self.expectAgreement(image, "drawing \(seed)")
        Self.expectAgreement(seed % 2 == 0 ? image.converted(toChannels: 4) : image.converted(toChannels: 1),
                             "drawing \(seed) as \(seed % 2 == 0 ? "RGBA" : "grey")")
    }

    @Test("edge cases: tiny, one row or column, blank, saturated, transparent, MNIST digits, frames")
    func edgeCases() {
        Self.expectAgreement(Self.grey(1, 1, [0]), "1×1 black")
        Self.expectAgreement(Self.grey(1, 1, [255]), "1×1 white")
        Self.expectAgreement(Self.grey(2, 2, [0, 255, 255, 0]), "2×2 checker")
        Self.expectAgreement(Self.grey(3, 1, [255, 0, 255]), "3×1")
        Self.expectAgreement(Self.grey(1, 3, [255, 0, 255]), "1×3")
        Self.expectAgreement(Self.grey(300, 300, [UInt8](repeating: 255, count: 90_000)), "blank page")
        Self.expectAgreement(Self.grey(50, 40, [UInt8](repeating: 0, count: 2_000)), "all black")
        var dot = [UInt8](repeating: 255, count: 300 * 300)
        dot[150 * 300 + 150] = 0
        Self.expectAgreement(Self.grey(300, 300, dot), "one black pixel on white")
        Self.expectAgreement(Self.grey(2000, 1, (0..<2000).map { $0 % 97 < 50 ? 0 : 255 }), "2000×1 line (downscaled)")
        Self.expectAgreement(Self.grey(1, 1500, (0..<1500).map { $0 % 31 < 5 ? 255 : 0 }), "1×1500 column (downscaled)")
        var frame = Canvas(width: 120, height: 90, background: .white)
        frame.stroke(PixelRect(x: 0, y: 0, width: 120, height: 90), .black, thickness: 4)
        Self.expectAgreement(frame.image, "a frame and nothing else")
        frame.line(from: SIMD2(60, 20), to: SIMD2(60, 70), .black, lineWidth: 5)
        Self.expectAgreement(frame.image, "a 1 inside a frame")
        // Transparent backgrounds (the alpha path), mostly transparent and mostly opaque.
        var marks = [UInt8](repeating: 0, count: 64 * 64 * 2)
        for y in 20..<44 { for x in 30..<34 { marks[(y * 64 + x) * 2] = 10; marks[(y * 64 + x) * 2 + 1] = 255 } }
        Self.expectAgreement(Image(width: 64, height: 64, channels: 2, pixels: marks)!, "ink on a transparent page")
        var page = [UInt8](repeating: 255, count: 64 * 64 * 4)
        for i in stride(from: 3, to: page.count, by: 4) where i % 7 == 0 { page[i] = 100 }
        for y in 10..<54 { for x in 28..<36 { for c in 0..<3 { page[(y * 64 + x) * 4 + c] = 30 } } }
        Self.expectAgreement(Image(width: 64, height: 64, channels: 4, pixels: page)!, "partly translucent RGBA page")
        // MNIST-style input comes back through preparation.
        for (index, sample) in SyntheticHandwriting.makeSet(count: 4, seed: 8).enumerated() {
            if let digit = try? DigitPreparation.prepare(sample.image), let image = Image(digit28: digit) {
                Self.expectAgreement(image, "prepared digit \(index) again")
            }
        }
    }

    @Test("random pictures of every size from 1 to 70 pixels a side, 1 to 4 channels")
    func random() {
        var random = SeededRandom(seed: 77)
        for index in 0..<100 {
            let width = random.integer(1...70), height = random.integer(1...70), channels = random.integer(1...4)
            let style = index % 3  // noise, sparse marks on a page, blocks
            var pixels = [UInt8](repeating: 0, count: width * height * channels)
            for i in 0..<pixels.count {
                switch style {
                case 0: pixels[i] = UInt8(random.integer(0...255))
                case 1: pixels[i] = random.chance(0.1) ? UInt8(random.integer(0...60)) : 230
                default: pixels[i] = ((i / channels) / max(1, width / 3)) % 2 == 0 ? 20 : 240
                }
            }
            Self.expectAgreement(Image(width: width, height: height, channels: channels, pixels: pixels)!,
                                 "random \(index): \(width)×\(height)×\(channels), style \(style)")
        }
    }

    // MARK: - The steps on their own

    /// Random grey values, some runs of equal values and some zeros.
    static func values(_ count: Int, _ random: inout SeededRandom) -> [Float] {
        (0..<count).map { _ in random.chance(0.3) ? 0 : Float(random.uniform(0...255)) }
    }

    @Test("box blur, max filter, dilation and resizing match the plain versions bit for bit")
    func steps() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<60 {
            let width = random.integer(1...40), height = random.integer(1...40)
            let v = Self.values(width * height, &random)
            #expect(InkAnalysis.boxBlur3(v, width: width, height: height) == ReferencePreparation.boxBlur3(v, width: width, height: height))
            let radius = random.integer(0...9)
            for square in [false, true] {
                #expect(InkAnalysis.maxFilter(v, width: width, height: height, radius: radius, square: square)
                        == ReferencePreparation.maxFilter(v, width: width, height: height, radius: radius, square: square))
            }
            let mask = v.map { $0 > 200 }
            #expect(InkAnalysis.dilate(mask.map { $0 ? 1 : 0 }, width: width, height: height, radius: radius)
                    == ReferencePreparation.dilate(mask, width: width, height: height, radius: radius).map { $0 ? 1 : 0 })
            let threshold = Float(random.uniform(0...255))
            let plainMask = ReferencePreparation.inkMask(v, width: width, height: height, threshold: threshold)
            let (ink, box) = InkAnalysis.inkMaskAndBox(v, width: width, height: height, threshold: threshold)
            #expect(ink == plainMask.map { $0 ? 1 : 0 })
            #expect(box == ReferencePreparation.boundingBox(of: plainMask, width: width, height: height))
            #expect(box == InkAnalysis.boundingBox(of: ink, width: width, height: height))
            let (toWidth, toHeight) = (random.integer(1...60), random.integer(1...60))
            #expect(Resampling.resize(v, width: width, height: height, toWidth: toWidth, toHeight: toHeight)
                    == ReferencePreparation.resize(v, width: width, height: height, toWidth: toWidth, toHeight: toHeight))
            let doubles = (0..<random.integer(1...2000)).map { _ in random.uniform(-600...600) }
            let q = random.unit()
            #expect(InkAnalysis.quantile(doubles, q) == ReferencePreparation.quantile(doubles, q))
            #expect(InkAnalysis.noiseLevel(v, width: width, height: height, distance: 2)
                    == ReferencePreparation.noiseLevel(v, width: width, height: height, distance: 2))
        }
    }
}
