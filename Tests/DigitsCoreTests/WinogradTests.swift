import DigitsCore
import Testing

/// Conv2D's 3×3 layers computed with Winograd's F(2×2, 3×3): the same values as the plain loops
/// of `ReferenceConv2D` up to rounding (forward, input gradient, weight and bias gradients), for
/// odd and even maps, every padding it takes, several chunks a slice; and the same bits on any
/// number of threads.
@Suite struct WinogradTests {
    @Test("Conv2D with Winograd matches the reference loops, forward and backward",
          arguments: [(2, 5, 7, 9, 1), (3, 4, 10, 10, 0), (4, 8, 14, 14, 1), (2, 3, 6, 11, 2), (5, 6, 3, 3, 1),
                      (3, 2, 4, 5, 0), (2, 3, 5, 37, 1), (3, 2, 18, 20, 0)])
    func matchesReference(shape: (inC: Int, outC: Int, h: Int, w: Int, padding: Int)) {
        var rng = RandomSource(seed: 31)
        let conv = Conv2D(shape.inC, shape.outC, kernelSize: 3, padding: shape.padding,
                          biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        conv.usesWinograd = true
        conv.chunkValues = 3_000                            // several chunks a slice
        let x = randomTensor([11, shape.inC, shape.h, shape.w], &rng)
        let reference = ReferenceConv2D.Shape(conv)
        let y = conv.forward(x, training: true)
        let expectedY = ReferenceConv2D.forward(reference, x: x, weight: conv.weight.value, bias: conv.bias?.value)
        expectClose(y.array, expectedY.map { Float($0) }, relative: 1e-4, absolute: 1e-4, "forward")
        let dy = randomTensor(y.shape, &rng)
        let dx = conv.backward(dy)
        let expected = ReferenceConv2D.backward(reference, x: x, weight: conv.weight.value, dy: dy)
        expectClose(dx?.array ?? [], expected.dx.map { Float($0) }, relative: 1e-4, absolute: 1e-4, "dx")
        expectClose(conv.weight.grad.array, expected.dWeight.map { Float($0) }, relative: 1e-4, absolute: 1e-3, "dW")
        expectClose(conv.bias!.grad.array, expected.dBias.map { Float($0) }, relative: 1e-4, absolute: 1e-3, "db")
    }

    @Test("Conv2D with Winograd: weight, bias and input gradients against finite differences", arguments: [0, 1, 2])
    func finiteDifferences(padding: Int) {
        var rng = RandomSource(seed: 11)
        let conv = Conv2D(2, 3, kernelSize: 3, padding: padding, initializer: .xavier,
                          biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        conv.usesWinograd = true
        checkLayerGradients(conv, input: randomTensor([2, 2, 6, 5], &rng))
    }

    @Test("Conv2D with Winograd, fused with its ReLU and pooling, gives the values of im2col and the multiply")
    func fusedMatchesMultiply() throws {
        var outputs: [[[Float]]] = []
        for winograd in [true, false] {
            var rng = RandomSource(seed: 5)
            let model = try Sequential(inputShape: [3, 12, 13], specs: [
                .conv2d(inChannels: 3, outChannels: 8, kernelSize: 3, stride: 1, padding: 1, bias: true),
                .activation(.relu), .maxPool2d(kernelSize: 2, stride: 2),
                .flatten, .dense(inputs: 8 * 6 * 6, outputs: 4, bias: true),
            ], initializer: .he, rng: &rng)
            for case let conv as Conv2D in model.layers { conv.usesWinograd = winograd }
            let x = randomTensor([9, 3, 12, 13], &rng)
            let y = model.forward(x, training: true)
            model.backward(randomTensor(y.shape, &rng))
            outputs.append([y.array] + model.parameters.map(\.grad.array))
        }
        for (a, b) in zip(outputs[0], outputs[1]) { expectClose(a, b, relative: 1e-4, absolute: 1e-4) }
    }

    @Test("Conv2D with Winograd gives the same bits on 1, 2 and 3 threads")
    func sameBitsAnyThreads() {
        func run(threads: Int) -> [[Float]] {
            Parallel.$threadCount.withValue(threads) {
                var rng = RandomSource(seed: 17)
                let conv = Conv2D(4, 6, kernelSize: 3, padding: 1, rng: &rng)
                conv.usesWinograd = true
                conv.chunkValues = 5_000
                let x = randomTensor([13, 4, 9, 8], &rng)
                let y = conv.forward(x, training: true)
                let dx = conv.backward(randomTensor(y.shape, &rng))
                return [y.array, dx?.array ?? [], conv.weight.grad.array, conv.bias!.grad.array]
            }
        }
        let one = run(threads: 1)
        #expect(run(threads: 2) == one)
        #expect(run(threads: 3) == one)
    }

    @Test("By default Winograd computes the large 3×3 layers only, and they match the multiply's values")
    func defaultRule() {
        var rng = RandomSource(seed: 2)
        let large = Conv2D(32, 64, kernelSize: 3, padding: 1, bias: false, rng: &rng)
        var copyRNG = RandomSource(seed: 2)
        let plain = Conv2D(32, 64, kernelSize: 3, padding: 1, bias: false, rng: &copyRNG)
        plain.usesWinograd = false
        let x = randomTensor([3, 32, 14, 14], &rng)
        let y = large.forward(x, training: false).array, yPlain = plain.forward(x, training: false).array
        #expect(y != yPlain, "the default computes this layer with Winograd (other roundings)")
        expectClose(y, yPlain, relative: 1e-4, absolute: 1e-4)
        var smallRNG = RandomSource(seed: 3)
        let small = Conv2D(16, 32, kernelSize: 3, bias: false, rng: &smallRNG)
        var smallCopy = RandomSource(seed: 3)
        let smallPlain = Conv2D(16, 32, kernelSize: 3, bias: false, rng: &smallCopy)
        smallPlain.usesWinograd = false
        let xs = randomTensor([3, 16, 12, 12], &rng)
        #expect(small.forward(xs, training: false).array == smallPlain.forward(xs, training: false).array,
                "a small layer keeps im2col and the multiply")
    }
}
