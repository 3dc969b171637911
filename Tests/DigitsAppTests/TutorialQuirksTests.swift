import DigitsApp
import DigitsCore
import DigitsData
import DigitsModelFile
import Foundation
import Testing

/// The tutorials' quirk layers (`BiasWithMeanGradient`, `SoftmaxWithDiagonalGradient`): their
/// gradients, the presets that use them, and model files written before they were layers.
@Suite struct TutorialQuirksTests {
    // MARK: - Gradients

    /// Central differences of L = Σ layer(x) ⊙ r with respect to every value of `t`.
    static func numericalGradient(_ layer: any Layer, _ x: Tensor, _ r: Tensor, of t: Tensor, epsilon: Float = 1e-2) -> [Float] {
        func loss() -> Double {
            let y = layer.forward(x, training: true)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.data[$1]) * Double(r.data[$1]) }
        }
        return (0..<t.count).map { i in
            let old = t.data[i]
            t.data[i] = old + epsilon; let up = loss()
            t.data[i] = old - epsilon; let down = loss()
            t.data[i] = old
            return Float((up - down) / Double(2 * epsilon))
        }
    }

    static func tensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomSource(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
        return t
    }

    static func expectClose(_ a: [Float], _ b: [Float], tolerance: Float, _ what: String) {
        #expect(a.count == b.count, "\(what): \(a.count) values against \(b.count)")
        for (i, (u, v)) in zip(a, b).enumerated() where abs(u - v) > tolerance * max(1, abs(v)) {
            Issue.record("\(what)[\(i)]: \(u), expected \(v)")
            return
        }
    }

    @Test("BiasWithMeanGradient: y = x + b; dx = dy (checked numerically); every db[j] is the mean of dy")
    func biasWithMeanGradient() throws {
        var rng = RandomSource(seed: 1)
        let layer = BiasWithMeanGradient(units: 3, fanIn: 4, initializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        let x = Self.tensor([5, 3], seed: 2), dy = Self.tensor([5, 3], seed: 3)
        let y = layer.forward(x, training: true)
        for i in 0..<15 { #expect(y.data[i] == x.data[i] + layer.bias.value.data[i % 3]) }
        let dx = try #require(layer.backward(dy)).array
        Self.expectClose(dx, Self.numericalGradient(layer, x, dy, of: x), tolerance: 1e-3, "dx")
        let mean = dy.array.reduce(0, +) / 15
        Self.expectClose(layer.bias.grad.array, [mean, mean, mean], tolerance: 1e-6, "db")
        // Not the true gradient (Σ_b dy[b, j]), which the numerical check measures.
        let trueDb = Self.numericalGradient(layer, x, dy, of: layer.bias.value)
        #expect(zip(trueDb, layer.bias.grad.array).contains { abs($0 - $1) > 1e-2 }, "the quirk should differ from the true gradient")
    }

    @Test("SoftmaxWithDiagonalGradient: softmax forward; dx = dy ⊙ y ⊙ (1 − y), not the true gradient")
    func softmaxDiagonal() throws {
        let x = Self.tensor([2, 5], seed: 4), dy = Self.tensor([2, 5], seed: 5)
        let diagonal = SoftmaxWithDiagonalGradient(), jacobian = Softmax()
        let y = diagonal.forward(x, training: true).array
        #expect(y == jacobian.forward(x, training: true).array)
        let dx = try #require(diagonal.backward(dy)).array
        Self.expectClose(dx, (0..<10).map { dy.data[$0] * y[$0] * (1 - y[$0]) }, tolerance: 1e-6, "diagonal")
        let trueDx = Self.numericalGradient(jacobian, x, dy, of: x)
        Self.expectClose(try #require(jacobian.backward(dy)).array, trueDx, tolerance: 1e-3, "the true gradient")
        #expect(zip(dx, trueDx).contains { abs($0 - $1) > 1e-3 }, "the diagonal gradient should not be the Jacobian's")
    }

    @Test("SoftmaxWithDiagonalGradient then BCE gives exactly p − onehot")
    func diagonalSoftmaxWithBCE() throws {
        let x = Self.tensor([3, 4], seed: 6)
        let labels: [Int32] = [0, 3, 2]
        let softmax = SoftmaxWithDiagonalGradient(), bce = BinaryCrossEntropy()
        let p = softmax.forward(x, training: true)
        let probabilities = p.array
        var perSample = [Float](repeating: 0, count: 3)
        let dp = bce.forwardBackward(output: p, labels: labels, perSample: &perSample, gradientScale: 0.5)
        let dx = try #require(softmax.backward(dp)).array
        let expected: [Float] = (0..<12).map { i in
            let target: Float = Int32(i % 4) == labels[i / 4] ? 1 : 0
            return 0.5 * (probabilities[i] - target)
        }
        Self.expectClose(dx, expected, tolerance: 1e-4, "p − onehot")
    }

    @Test("The leaky tutorial's network is built of the quirk layers, and its specs rebuild it")
    func preset() throws {
        let recipe = try #require(Presets.named("tutorial-leaky-256-128")).recipe
        let model = try recipe.makeModel()
        #expect(model.layers.filter { $0 is BiasWithMeanGradient }.count == 3)
        #expect(model.layers.last is SoftmaxWithDiagonalGradient)
        #expect(!model.layers.contains { ($0 as? Dense)?.bias != nil }, "the dense layers have no bias of their own")
        var rng = RandomSource(seed: 0)
        let again = try Sequential(inputShape: model.inputShape, specs: model.specs, custom: TutorialQuirks.makeLayer, rng: &rng)
        #expect(again.specs == model.specs)
        #expect(throws: ModelError.self) {
            var rng = RandomSource(seed: 0)
            _ = try Sequential(inputShape: [784], specs: [.custom(name: "no-such-quirk", sizes: [])], custom: TutorialQuirks.makeLayer, rng: &rng)
        }
    }

    // MARK: - Model files of format version 1

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// What `digits predict --index I --json` printed for test images 0…7 with the version that
    /// wrote the files (before the quirks became layers).
    static let expected: [String: [[Double]]] = [
        "tutorial-leaky-v1": [
            [0.2603253, 2.1380345e-05, 0.0038270531, 0.0041975095, 0.032214347, 0.0028860054, 0.001745881, 0.59220463, 0.0009748553, 0.10160307],
            [0.035701167, 0.08332716, 0.20385224, 0.3666162, 0.023790784, 0.10668964, 0.04982981, 0.028590899, 0.07560588, 0.02599621],
            [0.0055550337, 0.39338776, 0.21966875, 0.07803281, 0.021809163, 0.048451014, 0.027931292, 0.010840319, 0.17154984, 0.0227739],
            [0.8936545, 1.5607131e-06, 0.0003035074, 0.00074788387, 0.0015367189, 0.00025200084, 3.175072e-05, 0.09567483, 3.945145e-05, 0.007757821],
            [0.01885825, 0.00030138483, 0.014029635, 0.0033943034, 0.21855563, 0.018645482, 0.07015548, 0.33703342, 0.0136674475, 0.30535895],
            [0.002659206, 0.41078678, 0.24983715, 0.07986134, 0.013266832, 0.03854435, 0.01700709, 0.0069344863, 0.16494954, 0.01615316],
            [0.027738566, 0.00038438587, 0.013065667, 0.0049271896, 0.1799901, 0.019043716, 0.04975483, 0.38497654, 0.012183522, 0.30793548],
            [0.008611773, 0.00226266, 0.029460657, 0.006544732, 0.23052984, 0.04711524, 0.1822492, 0.16512042, 0.042050414, 0.28605503],
        ],
        "best-model": [
            [7.508783e-10, 1.597401e-07, 1.3504561e-07, 5.6949585e-08, 2.5666056e-08, 1.1531603e-09, 2.967519e-11, 0.9999995, 1.1477601e-09, 1.0731665e-07],
            [1.6423831e-09, 3.8966256e-08, 1.0, 1.1003517e-09, 1.2255326e-10, 5.5471936e-13, 8.643141e-09, 2.1757554e-08, 1.7525211e-09, 1.9373144e-11],
            [1.0965458e-06, 0.99995744, 3.0168403e-06, 1.444453e-07, 7.652362e-06, 4.1913095e-06, 1.3369765e-05, 9.797998e-06, 3.1918657e-06, 1.9395614e-07],
            [0.99996734, 7.169297e-09, 1.910472e-07, 1.875531e-09, 4.004666e-08, 2.7435863e-07, 3.184732e-05, 7.0267423e-09, 2.9343295e-07, 1.1507603e-07],
            [6.8261885e-10, 2.0090091e-07, 6.9936577e-09, 2.6380875e-10, 0.9999914, 5.793336e-09, 5.3004317e-08, 4.603163e-08, 1.0409122e-07, 8.210191e-06],
            [1.8134802e-08, 0.9999988, 2.5338924e-08, 3.078776e-10, 1.2088421e-07, 6.157323e-09, 7.728116e-08, 9.019892e-07, 5.2362207e-08, 6.029449e-09],
            [7.6023525e-09, 6.992284e-07, 2.798809e-07, 1.2550971e-09, 0.99987876, 2.0629568e-07, 8.985778e-08, 9.294752e-06, 1.204412e-05, 9.861491e-05],
            [2.5819193e-06, 4.619464e-07, 8.38215e-06, 9.884976e-07, 1.522639e-05, 3.710865e-08, 2.3756739e-08, 2.7055378e-07, 4.3353863e-05, 0.9999287],
        ],
    ]

    @Test("Version 1 files still load and give the same probabilities, bit for bit",
          arguments: ["tutorial-leaky-v1", "best-model"])
    func version1Files(name: String) throws {
        let model = try TrainedModel.load(from: Self.fixtures.appendingPathComponent("\(name).safetensors").path)
        let test = try MNIST.loadBundled().test
        let size = test.rows * test.columns
        // Recorded when every convolution was im2col and the multiply: bit for bit on that path,
        // and close with the Winograd 3×3 layers (`Conv2D.usesWinograd`) that now run by default.
        let convolutions = model.model.layers.compactMap { $0 as? Conv2D }
        for (i, expected) in try #require(Self.expected[name]).enumerated() {
            let image = Array(test.pixels[(i * size)..<((i + 1) * size)])
            Self.expectClose(model.probabilities(for: image), expected.map { Float($0) }, tolerance: 1e-5,
                             "test image \(i)")
            for conv in convolutions { conv.usesWinograd = false }
            let p = model.probabilities(for: image)
            for conv in convolutions { conv.usesWinograd = nil }
            #expect(p.map(\.bitPattern) == expected.map { Float($0).bitPattern }, "test image \(i)")
        }
    }

    @Test("The version 1 leaky tutorial model: its quirk layers, and the test loss and accuracy it had")
    func version1Leaky() throws {
        let model = try TrainedModel.load(from: Self.fixtures.appendingPathComponent("tutorial-leaky-v1.safetensors").path)
        #expect(model.model.layers.filter { $0 is BiasWithMeanGradient }.count == 3)
        #expect(model.model.layers.last is SoftmaxWithDiagonalGradient)
        let test = try MNIST.loadBundled().test
        let e = model.evaluate(on: Dataset(sampleShape: [784], features: test.pixels, labels: test.labels.map { Int32($0) }, classes: 10))
        // `digits eval --json` with the version that wrote it: 0.47 and 0.2310097713923722, read
        // 1,000 images at a time; read 128 at a time (`Evaluator`'s default since), the
        // multiply's sums round differently in the last bits.
        #expect(e.accuracy == 0.47)
        #expect(abs(e.loss - 0.2310097713923722) <= 1e-7 * 0.2310097713923722, "\(e.loss)")
    }
}
