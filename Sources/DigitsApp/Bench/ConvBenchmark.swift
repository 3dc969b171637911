import DigitsCore
import DigitsData
import Foundation

// MARK: - Convolution timings

/// One convolution layer of a preset's network, timed forward and backward on one batch.
public struct ConvLayerTiming: Sendable, Codable {
    /// The preset and the layer, such as "fast: Conv2D(16 → 32, 5×5, no bias)".
    public var name: String
    public var batch: Int
    /// Milliseconds for the batch, the best of as many repeats as the FMA peak's measurement.
    public var forwardMs: Double, backwardMs: Double
    /// Multiply-add work of forward and of backward (weight gradient, and input gradient unless
    /// it is the first layer), in GFLOP.
    public var forwardGFLOP: Double, backwardGFLOP: Double

    public var forwardGFLOPS: Double { forwardGFLOP / forwardMs * 1e3 }
    public var backwardGFLOPS: Double { backwardGFLOP / backwardMs * 1e3 }
    /// Forward and backward together.
    public var gflops: Double { (forwardGFLOP + backwardGFLOP) / (forwardMs + backwardMs) * 1e3 }
}

extension Benchmark {
    /// The convolutional part of `digits bench`: each convolution of `fast` (batch 128) and
    /// `pytorch-cnn` (batch 64) timed alone; one epoch of `pytorch-cnn`, to set beside
    /// `torch_mlp.py --cnn`; and `fast` trained to the end (its 99%).
    static func runConvolutional(_ options: Options, images: (train: ImageSet, test: ImageSet), kernel: SIMDGEMM,
                                 into report: inout BenchReport, log: (String) -> Void) throws(AppError) {
        let shape = ConvPresets.imageShape
        let train = try images.train.dataset(sampleShape: shape, source: .bundled)
        let test = try images.test.dataset(sampleShape: shape, source: .bundled)
        for (preset, batch) in [(ConvPresets.fast, 128), (ConvPresets.pytorchCNN, 64)] {
            // As many tries as the peak below gets (the best of each), so that a busy neighbour
            // weighs on both sides of the ratio alike.
            let rows = try convLayerTimings(preset.name, preset.recipe, batch: batch, train: train,
                                            repeats: options.repeats * 10)
            for r in rows {
                log("\(r.name), batch \(r.batch): forward \(fixed(r.forwardMs, 2)) ms, backward \(fixed(r.backwardMs, 2)) ms, \(fixed(r.gflops, 1)) GFLOP/s")
            }
            report.convLayers += rows
        }
        let flops = report.convLayers.reduce(0) { $0 + $1.forwardGFLOP + $1.backwardGFLOP }
        let ms = report.convLayers.reduce(0) { $0 + $1.forwardMs + $1.backwardMs }
        report.convGFLOPS = flops / ms * 1e3
        if report.fmaPeak == 0 {
            report.fmaPeak = FMAPeak.measure(threads: 1, repeats: options.repeats * 10, iterations: 500_000)
            report.fmaPeakTwoThreads = FMAPeak.measure(threads: 2, repeats: options.repeats * 10, iterations: 500_000)
            report.fmaLanes = FMAPeak.lanes
        }
        report.convPercentOfPeak = 100 * report.convGFLOPS / (kernel.threads > 1 ? report.fmaPeakTwoThreads : report.fmaPeak)

        var oneEpoch = ConvPresets.pytorchCNN.recipe
        oneEpoch.plan.length = .epochs(1)
        let epoch = try timeRecipe(oneEpoch, train: train, test: test)
        report.cnnPresets.append(PresetTiming(name: "pytorch-cnn, one epoch", seconds: epoch.seconds, testAccuracy: epoch.accuracy))
        log("pytorch-cnn, one epoch: \(fixed(epoch.seconds, 2)) s, test accuracy \(fixed(100 * epoch.accuracy, 2))%")

        var best = PresetTiming(name: "fast, all of its training", seconds: .infinity, testAccuracy: 0)
        for _ in 0..<options.epochRepeats {
            let t = try timeRecipe(ConvPresets.fast.recipe, train: train, test: test)
            if t.seconds < best.seconds { best.seconds = t.seconds; best.testAccuracy = t.accuracy }
        }
        report.cnnPresets.append(best)
        log("fast: \(fixed(best.seconds, 2)) s of training, test accuracy \(fixed(100 * best.testAccuracy, 2))%")
    }

    /// Times every Conv2D layer of `recipe`'s network on a batch of `batch` training images:
    /// forward in training mode, then backward with a fixed random gradient. Each is the best
    /// of `repeats` runs; the layers before are run once to produce its input.
    static func convLayerTimings(_ name: String, _ recipe: Recipe, batch: Int, train: Dataset,
                                 repeats: Int) throws(AppError) -> [ConvLayerTiming] {
        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw AppError(error.description) }
        var x = Tensor(shape: [batch] + model.inputShape)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        defer { labels.deallocate() }
        let indices = Array(0..<batch)
        indices.withUnsafeBufferPointer { train.gather($0, transform: recipe.inputTransform, into: x, labels: labels) }
        var rng = RandomSource(seed: 3)
        var rows: [ConvLayerTiming] = []
        for layer in model.layers {
            guard let conv = layer as? Conv2D else {
                x = layer.forward(x, training: true)
                continue
            }
            var y = conv.forward(x, training: true)
            var forward = Double.infinity
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                y = conv.forward(x, training: true)
                forward = min(forward, start.elapsedSeconds)
            }
            let dy = Tensor(shape: y.shape)
            for i in 0..<dy.count { dy.data[i] = rng.uniform(-1, 1) }
            var backward = Double.infinity
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                _ = conv.backward(dy)
                backward = min(backward, start.elapsedSeconds)
            }
            // 2 flops per multiply-add: outC · (inC·k·k) · (outH·outW) per sample and product.
            let macs = Double(batch * conv.outChannels * conv.inChannels * conv.kernelSize * conv.kernelSize
                              * y.shape[2] * y.shape[3])
            rows.append(ConvLayerTiming(name: "\(name): \(conv.summary)", batch: batch,
                                        forwardMs: forward * 1e3, backwardMs: backward * 1e3,
                                        forwardGFLOP: 2 * macs / 1e9,
                                        backwardGFLOP: (conv.computesInputGradient ? 4 : 2) * macs / 1e9))
            x = y
        }
        return rows
    }
}
