import DigitsCore
import Foundation
import Testing

// Small helpers shared by the DigitsCore tests. Only the public API of DigitsCore is used.

/// |a − b| ≤ absolute + relative · max(|a|, |b|). False for NaN.
func isApproximatelyEqual(_ a: Float, _ b: Float, relative: Float = 1e-5, absolute: Float = 0) -> Bool {
    abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

func isApproximatelyEqual(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 0) -> Bool {
    abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

/// Expects two arrays to agree element by element within the tolerances; reports the worst element.
func expectClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-2, absolute: Float = 1e-3,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    var bad = 0
    var worst: (index: Int, error: Float) = (-1, -1)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !isApproximatelyEqual(a, e, relative: relative, absolute: absolute) {
        bad += 1
        let err = a.isNaN || e.isNaN ? .infinity : abs(a - e)
        if err > worst.error { worst = (i, err) }
    }
    if bad > 0 {
        let i = worst.index
        Issue.record("\(what): \(bad) of \(actual.count) values differ; worst at \(i): got \(actual[i]), expected \(expected[i])",
                     sourceLocation: sourceLocation)
    }
}

/// A tensor of values drawn uniformly from `range`.
func randomTensor(_ shape: [Int], _ rng: inout RandomSource, in range: ClosedRange<Float> = -1...1) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, values: (0..<n).map { _ in rng.uniform(range.lowerBound, range.upperBound) })
}

/// A tensor whose values have magnitudes in `magnitude` and random signs: away from zero, so away
/// from the kinks of ReLU and LeakyReLU.
func awayFromZeroTensor(_ shape: [Int], _ rng: inout RandomSource, magnitude: ClosedRange<Float> = 0.1...1) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, values: (0..<n).map { _ in
        let v = rng.uniform(magnitude.lowerBound, magnitude.upperBound)
        return rng.nextUnit() < 0.5 ? -v : v
    })
}

/// Σ y ⊙ r, in Double.
func weightedSum(_ y: Tensor, _ r: Tensor) -> Double {
    precondition(y.count == r.count)
    var s = 0.0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
    return s
}

/// Central differences of `f` with respect to every value of `t`, in place (each value is put back).
func numericalGradient(of t: Tensor, epsilon: Float, _ f: () -> Double) -> [Float] {
    var g = [Float](repeating: 0, count: t.count)
    for i in 0..<t.count {
        let old = t.data[i]
        let up = old + epsilon, down = old - epsilon
        t.data[i] = up
        let fUp = f()
        t.data[i] = down
        let fDown = f()
        t.data[i] = old
        g[i] = Float((fUp - fDown) / (Double(up) - Double(down)))
    }
    return g
}

/// Checks a layer's backward against central differences of L = Σ layer(x) ⊙ r for a random r:
/// d(input) and the gradient of every parameter.
func checkLayerGradients(_ layer: any Layer, input x: Tensor, epsilon: Float = 1e-2, seed: UInt64 = 99,
                         relative: Float = 1e-2, absolute: Float = 1e-3,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    var rng = RandomSource(seed: seed)
    layer.computesInputGradient = true
    let shape = layer.forward(x, training: true).shape
    let r = randomTensor(shape, &rng)
    let f: () -> Double = { weightedSum(layer.forward(x, training: true), r) }

    for p in layer.parameters { p.grad.zero() }
    _ = layer.forward(x, training: true)
    let dx = layer.backward(r)?.array ?? []
    let grads = layer.parameters.map(\.grad.array)

    let numericDx = numericalGradient(of: x, epsilon: epsilon, f)
    #expect(numericDx.contains { abs($0) > 1e-2 }, "degenerate check: the input gradient is ~0",
            sourceLocation: sourceLocation)
    expectClose(dx, numericDx, relative: relative, absolute: absolute, "\(layer.summary) d(input)",
                sourceLocation: sourceLocation)
    for (p, g) in zip(layer.parameters, grads) {
        let numeric = numericalGradient(of: p.value, epsilon: epsilon, f)
        expectClose(g, numeric, relative: relative, absolute: absolute, "\(layer.summary) d(\(p.name))",
                    sourceLocation: sourceLocation)
    }
}

/// A dense layer with the activation after it fused, as `Sequential` runs the pair, seen as one
/// layer (for gradient checks of the fused path).
final class FusedDense: Layer {
    let dense: Dense
    let activation: Activation?
    init(_ dense: Dense, _ activation: Activation?) { self.dense = dense; self.activation = activation }
    var computesInputGradient: Bool {
        get { dense.computesInputGradient }
        set { dense.computesInputGradient = newValue }
    }
    var summary: String { dense.summary + (activation.map { " + \($0.name)" } ?? "") }
    var spec: LayerSpec { dense.spec }
    var parameters: [Parameter] { dense.parameters }
    var weight: Parameter { dense.weight }
    var bias: Parameter? { dense.bias }
    func outputShape(for input: [Int]) throws(ModelError) -> [Int] { try dense.outputShape(for: input) }
    func forward(_ x: Tensor, training: Bool) -> Tensor { dense.forward(x, then: activation) }
    func backward(_ dy: Tensor) -> Tensor? { dense.backward(dy, through: activation) }
}

/// A convolution with the activation after it fused, as `Sequential` runs the pair.
final class FusedConv2D: Layer {
    let conv: Conv2D
    let activation: Activation?
    init(_ conv: Conv2D, _ activation: Activation?) { self.conv = conv; self.activation = activation }
    var computesInputGradient: Bool {
        get { conv.computesInputGradient }
        set { conv.computesInputGradient = newValue }
    }
    var summary: String { conv.summary + (activation.map { " + \($0.name)" } ?? "") }
    var spec: LayerSpec { conv.spec }
    var parameters: [Parameter] { conv.parameters }
    func outputShape(for input: [Int]) throws(ModelError) -> [Int] { try conv.outputShape(for: input) }
    func forward(_ x: Tensor, training: Bool) -> Tensor { conv.forward(x, training: training, then: activation) }
    func backward(_ dy: Tensor) -> Tensor? { conv.backward(dy, through: activation) }
}

/// x · W + b computed plainly in Double, (B, outputs).
func affine(_ x: Tensor, _ dense: Dense) -> [Double] {
    let batch = x.rows, n = dense.inputs, m = dense.outputs
    var z = [Double](repeating: 0, count: batch * m)
    for b in 0..<batch {
        for j in 0..<m {
            var s = Double(dense.bias?.value.data[j] ?? 0)
            for i in 0..<n { s += Double(x.data[b * n + i]) * Double(dense.weight.value.data[i * m + j]) }
            z[b * m + j] = s
        }
    }
    return z
}

/// Bit patterns of every parameter of a model, for exact comparisons.
func parameterBits(_ model: Sequential) -> [[UInt32]] {
    model.parameters.map { $0.value.array.map(\.bitPattern) }
}

/// A fresh, empty directory under the system's temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("digits-core-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Two well-separated blobs of 2-feature byte samples: class 0 near (60, 60), class 1 near (190, 190).
func blobs(count: Int, seed: UInt64) -> Dataset {
    var rng = RandomSource(seed: seed)
    var features: [UInt8] = []
    var labels: [Int32] = []
    for i in 0..<count {
        let label = Int32(i % 2)
        let center: Float = label == 0 ? 60 : 190
        for _ in 0..<2 { features.append(UInt8(center + rng.uniform(-45, 45))) }
        labels.append(label)
    }
    return Dataset(sampleShape: [2], features: features, labels: labels, classes: 2)
}
