import Foundation
import Testing
@testable import DigitsVision

// MARK: - Digit preparation

@Suite("MNIST-style digit preparation")
struct PreparationTests {
    /// A varied realistic set: every colour layout, both polarities, PNG and JPEG, noise, gradients.
    static let samples = SyntheticHandwriting.makeSet(count: 24, seed: 2024)

    @Test("the centre of mass lands at (14, 14) ± 1 and the ink fits in 20×20")
    func centredAndBoxed() throws {
        for (index, sample) in PreparationTests.samples.enumerated() {
            let prepared = try DigitPreparation.prepare(sample.image, source: "sample \(index)")
            #expect(prepared.count == 784)
            let com = centreOfMass(prepared)
            #expect(abs(com.x - 14) <= 1 && abs(com.y - 14) <= 1, "sample \(index) (\(sample.style)): centre of mass \(com)")
            let box = try #require(inkBounds(prepared), "sample \(index) has no ink")
            #expect(box.width <= 20 && box.height <= 20, "sample \(index): ink box \(box)")
            #expect(max(box.width, box.height) >= 19, "sample \(index): the longer side fills the 20-pixel box, \(box)")
            #expect((prepared.max() ?? 0) >= 230, "sample \(index): the ink is nearly saturated like MNIST's")
            // Background is clean: the corners are empty.
            for corner in [0, 27, 27 * 28, 783] { #expect(prepared[corner] == 0) }
        }
    }

    @Test("dark on light and light on dark give nearly the same digit", arguments: 0..<10)
    func polarityInvariant(digit: Int) throws {
        var dark = SyntheticHandwriting(seed: 77 + UInt64(digit))
        var light = SyntheticHandwriting(seed: 77 + UInt64(digit))
        let a = dark.make(digit: digit, overrides: .init(darkOnLight: true, colour: .grey, allowJPEG: false))
        let b = light.make(digit: digit, overrides: .init(darkOnLight: false, colour: .grey, allowJPEG: false))
        let pa = try DigitPreparation.analyse(a.image)
        let pb = try DigitPreparation.analyse(b.image)
        #expect(pa.inkWasDark && !pb.inkWasDark)
        let difference = shiftTolerantDifference(pa.pixels, pb.pixels)
        #expect(difference < 5, "digit \(digit): mean difference \(difference) grey levels")
    }

    @Test("transparent backgrounds count as background", arguments: [SyntheticStyle.Colour.greyAlpha, .rgba])
    func alpha(colour: SyntheticStyle.Colour) throws {
        for digit in [0, 3, 7] {
            var opaque = SyntheticHandwriting(seed: 500 + UInt64(digit))
            var clear = SyntheticHandwriting(seed: 500 + UInt64(digit))
            let a = opaque.make(digit: digit, overrides: .init(darkOnLight: true, colour: .grey, allowJPEG: false, clean: true))
            let b = clear.make(digit: digit, overrides: .init(darkOnLight: true, colour: colour, allowJPEG: false, clean: true))
            #expect(b.image.hasAlpha)
            let difference = shiftTolerantDifference(try DigitPreparation.prepare(a.image), try DigitPreparation.prepare(b.image))
            #expect(difference < 8, "digit \(digit): mean difference \(difference)")
        }
    }

    @Test("an MNIST-style digit comes back nearly unchanged")
    func idempotent() throws {
        let first = try DigitPreparation.prepare(PreparationTests.samples[3].image)
        let again = try DigitPreparation.prepare(try #require(Image(digit28: first)))
        #expect(meanAbsoluteDifference(first, again) < 10)
    }

    @Test("specks of dust do not move the crop")
    func speckle() throws {
        var canvas = Canvas(width: 200, height: 160, background: .white)
        canvas.polyline([SIMD2(90, 40), SIMD2(120, 40), SIMD2(100, 120)], .black, lineWidth: 6)  // a 7
        let clean = try DigitPreparation.analyse(canvas.image)
        var random = SeededRandom(seed: 9)
        for _ in 0..<40 {
            canvas.set(x: random.integer(0...199), y: random.integer(0...159), .black)
        }
        canvas.fill(PixelRect(x: 10, y: 140, width: 2, height: 2), .black)
        let dusty = try DigitPreparation.analyse(canvas.image)
        #expect(dusty.inkBox == clean.inkBox)
        #expect(meanAbsoluteDifference(clean.pixels, dusty.pixels) < 2)
    }

    @Test("the table around a photographed page is not ink", arguments: ["all round", "left edge"])
    func pageOnTable(table: String) throws {
        var canvas = Canvas(width: 320, height: 240, background: Color(60, 50, 45))
        let page = table == "all round" ? PixelRect(x: 40, y: 20, width: 250, height: 205) : PixelRect(x: 50, y: 0, width: 270, height: 240)
        canvas.fill(page, Color(215, 215, 205))
        canvas.polyline([SIMD2(140, 80), SIMD2(170, 60), SIMD2(170, 170)], Color(30, 40, 110), lineWidth: 5)
        let prepared = try DigitPreparation.analyse(canvas.image)
        #expect(prepared.inkWasDark)
        #expect(abs(prepared.inkBox.x - 138) <= 3 && abs(prepared.inkBox.maxX - 173) <= 3, "\(prepared.inkBox)")
        #expect(abs(prepared.inkBox.y - 58) <= 3 && abs(prepared.inkBox.maxY - 173) <= 3, "\(prepared.inkBox)")
    }

    @Test("a thick marker filling most of a noisy picture is ink, not noise")
    func thickMarker() throws {
        var canvas = Canvas(width: 100, height: 120, background: Color(235, 235, 235))
        canvas.polyline([SIMD2(12, 16), SIMD2(86, 16), SIMD2(40, 106)], Color(40, 40, 40), lineWidth: 26)
        var image = canvas.image
        var random = SeededRandom(seed: 4)
        for i in 0..<image.pixels.count {
            image.pixels[i] = UInt8(max(0, min(255, Double(image.pixels[i]) + 10 * random.gaussian())))
        }
        let prepared = try DigitPreparation.analyse(image)
        #expect(prepared.inkWasDark && !prepared.thickened)
        #expect(prepared.strokeWidth > 20)
    }

    @Test("thin pen strokes are thickened to MNIST's width")
    func thickening() throws {
        var canvas = Canvas(width: 300, height: 300, background: .white)
        canvas.line(from: SIMD2(150, 20), to: SIMD2(150, 280), .black, lineWidth: 2)  // a thin 1
        let prepared = try DigitPreparation.analyse(canvas.image)
        #expect(prepared.thickened)
        let bright = prepared.pixels.filter { $0 > 128 }.count
        #expect(bright >= 2 * 19, "at least two bright columns: \(bright) bright pixels")
    }

    @Test("a large photo is read at reduced size and the ink box is reported in its own pixels")
    func largeImage() throws {
        var canvas = Canvas(width: 1300, height: 800, background: Color(200, 200, 190))
        canvas.polyline([SIMD2(600, 200), SIMD2(800, 200), SIMD2(660, 700)], Color(20, 20, 60), lineWidth: 30)
        let prepared = try DigitPreparation.analyse(canvas.image)
        #expect(abs(prepared.inkBox.x - 585) < 12 && abs(prepared.inkBox.maxX - 815) < 12)
        #expect(abs(prepared.inkBox.y - 185) < 12 && abs(prepared.inkBox.maxY - 715) < 12)
        let com = centreOfMass(prepared.pixels)
        #expect(abs(com.x - 14) <= 1 && abs(com.y - 14) <= 1)
    }

    @Test("the naive approach neither crops nor centres")
    func naive() throws {
        var canvas = Canvas(width: 280, height: 140, background: .white)
        canvas.line(from: SIMD2(40, 30), to: SIMD2(40, 110), .black, lineWidth: 8)  // a 1 near the left edge
        let naive = DigitPreparation.naiveResize(canvas.image)
        let prepared = try DigitPreparation.prepare(canvas.image)
        #expect(centreOfMass(naive).x < 7)
        #expect(abs(centreOfMass(prepared).x - 14) <= 1)
        #expect(naive[0] == 0, "a light page is inverted to a dark background")
        #expect(DigitPreparation.naiveResize(canvas.image, polarity: .asIs)[0] == 255)
    }

    @Test("greyscale uses Rec. 601 luma")
    func greyscale() {
        let image = Image(width: 3, height: 1, channels: 3, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255])!
        let grey = DigitPreparation.greyscale(image)
        #expect(abs(grey[0] - 76.2) < 0.5 && abs(grey[1] - 149.7) < 0.5 && abs(grey[2] - 29.1) < 0.5)
    }

    @Test("area averaging keeps the mean")
    func areaAveraging() {
        let values: [Float] = (0..<(30 * 17)).map { Float(($0 * 37) % 255) }
        let small = Resampling.resize(values, width: 30, height: 17, toWidth: 7, toHeight: 5)
        let meanBefore = values.reduce(0, +) / Float(values.count)
        let meanAfter = small.reduce(0, +) / Float(small.count)
        #expect(abs(meanBefore - meanAfter) < 0.01)
        // A one-pixel dot shrunk 4× leaves a 1/16-strength pixel.
        var dot = [Float](repeating: 0, count: 16)
        dot[5] = 16
        #expect(Resampling.resize(dot, width: 4, height: 4, toWidth: 1, toHeight: 1) == [1])
    }
}
