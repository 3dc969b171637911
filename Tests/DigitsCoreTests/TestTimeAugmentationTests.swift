@testable import DigitsCore
import Testing

/// Test-time augmentation's views: deterministic, the identity view is the image itself, a shift
/// moves the ink, and the average is the mean of the views.
@Suite("Test-time augmentation")
struct TestTimeAugmentationTests {
    /// Three 28×28 images with a bar of ink each, and one (1, 28, 28) batch of them.
    static let images = ReaderAugmentationTests.images(count: 3)

    static func expand(_ tta: TestTimeAugmentation, transform: InputTransform = .unit) -> Tensor {
        let x = Tensor(shape: [0])
        images.features.withUnsafeBufferPointer {
            tta.expand($0.baseAddress!, samples: images.count, sampleShape: images.sampleShape, transform: transform, into: x)
        }
        return x
    }

    @Test("The identity view alone gives exactly what gathering the batch gives", arguments: [InputTransform.unit, InputTransform(scale: 2, offset: -0.5)])
    func identity(_ transform: InputTransform) {
        let x = Self.expand(.none, transform: transform)
        let plain = Tensor(shape: [0])
        var labels = [Int32](repeating: 0, count: 3)
        Array(0..<3).withUnsafeBufferPointer { Self.images.gather($0, transform: transform, into: plain, labels: &labels) }
        #expect(x.shape == [3, 1, 28, 28])
        #expect(x.array == plain.array)
        // An explicit identity view, even written as a rotation of 0° and a scale of 1, is the same.
        #expect(Self.expand(TestTimeAugmentation(views: [.init(rotation: 0, scale: 1)]), transform: transform).array == plain.array)
        #expect(TestTimeAugmentation(views: []) == .none)
    }

    @Test("Each sample's views are in consecutive rows; a one-pixel shift moves the ink one pixel")
    func views() {
        let tta = TestTimeAugmentation(views: [.identity, .init(shiftX: 1), .init(shiftY: -1), .init(rotation: 5, scale: 1.1)])
        let x = Self.expand(tta).array
        #expect(x.count == 3 * 4 * 784)
        for b in 0..<3 {
            let row = { (k: Int) in Array(x[((b * 4 + k) * 784)..<((b * 4 + k + 1) * 784)]) }
            let image = row(0), right = row(1), up = row(2), turned = row(3)
            for y in 0..<28 {
                for c in 1..<28 { #expect(right[y * 28 + c] == image[y * 28 + c - 1]) }
                #expect(right[y * 28] == 0)
            }
            for y in 0..<27 { for c in 0..<28 { #expect(up[y * 28 + c] == image[(y + 1) * 28 + c]) } }
            #expect(turned != image && turned.allSatisfy { $0 >= 0 && $0 <= 1.0001 })
        }
        #expect(Self.expand(tta).array == x, "the same views every time")
    }

    @Test("The average of the views' probabilities, row by row")
    func average() {
        let tta = TestTimeAugmentation(views: [.identity, .init(shiftX: 1)])
        // Two samples, two views each, three classes.
        let p: [Float] = [0.5, 0.3, 0.2, 0.1, 0.7, 0.2,
                          1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        var out = [Float](repeating: -1, count: 6)
        p.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { tta.average(q.baseAddress!, samples: 2, classes: 3, into: $0.baseAddress!) }
        }
        let expected: [Float] = [0.3, 0.5, 0.2, 0.5, 0, 0.5]
        for (a, b) in zip(out, expected) { #expect(abs(a - b) < 1e-6) }
    }
}
