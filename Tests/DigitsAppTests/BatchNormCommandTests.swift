import DigitsApp
import DigitsCore
import Foundation
import Testing

/// `digits calibrate --batchnorm`: BatchNorm's statistics re-estimated on the training images
/// before the held-out ones, said in one line and recorded in the file; a model without
/// BatchNorm is refused in one line.
@Suite struct BatchNormCommandTests {
    @Test("calibrate --batchnorm re-estimates the statistics; a model without BatchNorm is refused")
    func command() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 300, test: 20)
        var rng = RandomSource(seed: 3)
        let network = try Sequential(inputShape: [1, 28, 28], specs: [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(channels: 4, momentum: 0.1, epsilon: 1e-5), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2), .flatten, .dense(inputs: 4 * 14 * 14, outputs: 10, bias: true),
        ], rng: &rng)
        let path = dir.appendingPathComponent("bn.safetensors").path
        try TrainedModel(model: network, inputTransform: .unit, loss: .crossEntropy).save(to: path)

        let r = try DigitsCommand.run(["calibrate", "--model", path, "--data", dir.path, "--validation", "100", "--batchnorm"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("BatchNorm statistics re-estimated on the first 200 training images (2 batches)"), "\(r.stdout)")
        let saved = try TrainedModel.load(from: path)
        #expect(saved.metadata["batchnorm_statistics"]?.contains("first 200 training images") == true)
        let bn = try #require(saved.model.layers[1] as? BatchNorm)
        #expect(bn.runningMean.value.array != [0, 0, 0, 0], "the statistics of a fresh layer were replaced")

        var plain = RandomSource(seed: 3)
        let mlp = try Sequential(inputShape: [784], specs: [.dense(inputs: 784, outputs: 10, bias: true)], rng: &plain)
        let mlpPath = dir.appendingPathComponent("mlp.safetensors").path
        try TrainedModel(model: mlp, inputTransform: .unit, loss: .crossEntropy).save(to: mlpPath)
        let refused = try DigitsCommand.run(["calibrate", "--model", mlpPath, "--data", dir.path, "--validation", "100", "--batchnorm"])
        #expect(refused.status == 1 && refused.stderr.contains("no BatchNorm layer") && refused.stderr.split(separator: "\n").count == 1,
                "\(refused.stderr)")
    }
}
