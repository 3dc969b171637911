@testable import DigitsCore
import Testing

/// The reader's distortions: seeded, the same on any thread count, of the right shape, and
/// each doing what it says (erosion never adds ink, dilation never removes it, …).
@Suite("Reader augmentation")
struct ReaderAugmentationTests {
    /// Every distortion on, strongly.
    static let strong = Augmentation(
        maxShift: 2, maxRotation: 10, maxScale: 0.1, maxShear: 0.3, maxAspect: 0.2,
        elasticAlpha: 2, elasticGrid: 4, thickness: 1, blurProbability: 0.5,
        lowResolutionProbability: 0.5, minContrast: 0.5, maxNoise: 10)

    /// 40 images of 28×28: a bar of ink in each, at different places.
    static func images(count: Int = 40) -> Dataset {
        var features = [UInt8](repeating: 0, count: count * 784)
        for n in 0..<count {
            let x0 = 6 + n % 12, y0 = 4 + n % 7
            for y in y0..<(y0 + 16) { for x in x0..<(x0 + 4) { features[n * 784 + y * 28 + x] = 200 + UInt8(n % 50) } }
        }
        return Dataset(sampleShape: [1, 28, 28], features: features, labels: (0..<count).map { Int32($0 % 10) }, classes: 10)
    }

    static func batch(_ augmentation: Augmentation, seed: UInt64, data: Dataset = images()) -> (x: [Float], labels: [Int32]) {
        let x = Tensor(shape: [0])
        var labels = [Int32](repeating: -1, count: data.count)
        var rng = RandomSource(seed: seed)
        Array(0..<data.count).reversed().withUnsafeBufferPointer { i in
            augmentation.gather(from: data, i, transform: .unit, into: x, labels: &labels, rng: &rng)
        }
        #expect(x.shape == [data.count, 1, 28, 28])
        return (x.array, labels)
    }

    @Test("Seeded: the same seed gives the same batch, another seed another; labels follow the indices")
    func seeded() {
        let a = Self.batch(Self.strong, seed: 3), b = Self.batch(Self.strong, seed: 3), c = Self.batch(Self.strong, seed: 4)
        #expect(a.x == b.x)
        #expect(a.x != c.x)
        #expect(a.labels == (0..<40).reversed().map { Int32($0 % 10) })
        #expect(a.x.allSatisfy { $0 >= 0 && $0 <= 1 && $0.isFinite })
    }

    @Test("The same batch on one thread and on two", arguments: [1, 2])
    func threads(_ threads: Int) {
        let one = Parallel.$threadCount.withValue(1) { Self.batch(Self.strong, seed: 9) }
        let many = Parallel.$threadCount.withValue(threads) { Self.batch(Self.strong, seed: 9) }
        #expect(one.x == many.x)
    }

    @Test("Turning the reader's distortions off leaves the old augmentation's batches unchanged")
    func legacyUnchanged() {
        #expect(!Augmentation().isExtended)
        #expect(Self.strong.isExtended)
        var plain = Self.strong
        plain.maxShear = 0; plain.maxAspect = 0; plain.elasticAlpha = 0; plain.thickness = 0
        plain.blurProbability = 0; plain.lowResolutionProbability = 0; plain.minContrast = 1; plain.maxNoise = 0
        #expect(plain == Augmentation())
        #expect(Self.batch(plain, seed: 2).x == Self.batch(Augmentation(), seed: 2).x)
    }

    // MARK: - Each distortion

    static func randomImage(seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<784).map { _ in rng.nextUnit() < 0.3 ? rng.uniform(0, 255) : 0 }
    }

    @Test("Erosion never adds ink and dilation never removes it; thicken blends between", arguments: [1, 2, 3] as [UInt64])
    func morphology(_ seed: UInt64) {
        var image = Self.randomImage(seed: seed)
        var eroded = [Float](repeating: -1, count: 784), dilated = [Float](repeating: -1, count: 784)
        image.withUnsafeBufferPointer { src in
            GreyMorphology.erode(src.baseAddress!, height: 28, width: 28, into: &eroded)
            GreyMorphology.dilate(src.baseAddress!, height: 28, width: 28, into: &dilated)
        }
        for i in 0..<784 {
            #expect(eroded[i] <= image[i])
            #expect(dilated[i] >= image[i])
        }
        #expect(eroded.reduce(0, +) < image.reduce(0, +))
        #expect(dilated.reduce(0, +) > image.reduce(0, +))
        // A single bright pixel: erosion removes it, dilation makes a cross of five.
        var dot = [Float](repeating: 0, count: 25); dot[12] = 100
        var out = [Float](repeating: 0, count: 25)
        GreyMorphology.erode(dot, height: 5, width: 5, into: &out)
        #expect(out.allSatisfy { $0 == 0 })
        GreyMorphology.dilate(dot, height: 5, width: 5, into: &out)
        #expect(out.filter { $0 == 100 }.count == 5 && out[7] == 100 && out[11] == 100 && out[13] == 100 && out[17] == 100)
        // Half way towards the erosion.
        let original = image
        var scratch = [Float](repeating: 0, count: 784)
        GreyMorphology.thicken(&image, height: 28, width: 28, amount: -0.5, scratch: &scratch)
        for i in 0..<784 { #expect(abs(image[i] - (original[i] + eroded[i]) / 2) < 1e-3) }
    }

    @Test("Blur and half resolution keep the ink's total roughly and spread it; contrast and noise stay in 0…255")
    func degradation() {
        var image = [Float](repeating: 0, count: 784)
        for y in 8..<20 { for x in 12..<16 { image[y * 28 + x] = 255 } }
        let total = image.reduce(0, +)
        var scratch = [Float](repeating: 0, count: 784)
        var blurred = image
        Degradation.blur(&blurred, height: 28, width: 28, scratch: &scratch)
        #expect(abs(blurred.reduce(0, +) - total) < 1e-2 * total)   // the ink is far from the border
        #expect(blurred.filter { $0 > 0 }.count > image.filter { $0 > 0 }.count)
        #expect(blurred.max()! <= 255)
        var half = image
        Degradation.halfResolution(&half, height: 28, width: 28, scratch: &scratch)
        #expect(abs(half.reduce(0, +) - total) < 0.1 * total)
        #expect(half.allSatisfy { $0 >= 0 && $0 <= 255 })
        Degradation.scaleContrast(&half, count: 784, contrast: 0.5)
        #expect(half.max()! <= 128)
        var rng = RandomSource(seed: 1)
        Degradation.addNoise(&image, count: 784, sigma: 20, rng: &rng)
        #expect(image.allSatisfy { $0 >= 0 && $0 <= 255 })
        let background = (0..<784).filter { ($0 / 28) < 4 }.map { image[$0] }
        let mean = background.reduce(0, +) / Float(background.count)
        #expect(mean > 2 && mean < 15, "noise clamped at 0 lifts the empty background a little")
    }

    @Test("The elastic field is smooth and bounded by alpha; zero at a zero lattice")
    func elastic() {
        var storage = [Float](repeating: 0, count: ElasticField.storage(grid: 4))
        var rng = RandomSource(seed: 5)
        let field = ElasticField(grid: 4, alpha: 2, storage: &storage, rng: &rng)
        var largestStep: Float = 0
        for y in 0..<28 {
            for x in 0..<28 {
                let d = field.displacement(x: x, y: y, height: 28, width: 28)
                #expect(abs(d.dx) <= 2 && abs(d.dy) <= 2)
                if x > 0 {
                    let l = field.displacement(x: x - 1, y: y, height: 28, width: 28)
                    largestStep = max(largestStep, abs(d.dx - l.dx), abs(d.dy - l.dy))
                }
            }
        }
        #expect(largestStep <= 4 / 9 + 1e-4, "neighbours move at most 2·alpha per lattice cell of 9 px")
        let corner = field.displacement(x: 27, y: 27, height: 28, width: 28)
        #expect(corner.dx == storage[2 * 15] && corner.dy == storage[2 * 15 + 1])
    }

    @Test("A slant of +k moves the bottom of a vertical bar the other way from its top")
    func shear() {
        var a = Augmentation(maxShift: 0, maxRotation: 0, maxScale: 0)
        a.maxShear = 0.4
        let data = Self.images(count: 1)
        var rng = RandomSource(seed: 11)
        let warp = a.drawWarp(height: 28, width: 28, rng: &rng)
        #expect(warp.a == 1 && warp.d == 1 && warp.c == 0 && warp.b != 0)
        var out = [Float](repeating: 0, count: 784)
        data.features.withUnsafeBufferPointer { warp.sample($0.baseAddress!, height: 28, width: 28, field: nil, into: &out) }
        func centre(row y: Int) -> Float {
            let ink = (0..<28).map { out[y * 28 + $0] }
            return zip(0..<28, ink).reduce(0) { $0 + Float($1.0) * $1.1 } / max(ink.reduce(0, +), 1)
        }
        #expect(abs(centre(row: 6) - centre(row: 18)) > 1, "the bar leans")
    }
}
