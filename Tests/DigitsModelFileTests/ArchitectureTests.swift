import DigitsCore
import DigitsModelFile
import Foundation
import Testing

@Suite struct ArchitectureTests {
    @Test("Every kind of layer round-trips through the JSON")
    func roundTrip() throws {
        let arch = Architecture(inputShape: [1, 28, 28], inputTransform: InputTransform(scale: 1 / 255, offset: -0.1), layers: [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 5, stride: 2, padding: 1, bias: false),
            .batchNorm(channels: 4, momentum: 0.1, epsilon: 1e-5), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2), .globalAveragePool, .dropout(rate: 0.25), .flatten,
            .dense(inputs: 4, outputs: 3, bias: true), .activation(.leakyReLU(alpha: 0.2)),
            .activation(.sigmoid), .activation(.tanh), .softmax, .custom(name: "quirk", sizes: [3, 3]),
        ])
        let read = try Architecture(json: arch.json)
        #expect(read == arch)
        #expect(arch.json.contains("\"alpha\":0.2"), "floats written as their shortest decimal: \(arch.json)")
    }

    @Test("Version 1 layers with something fused become the layers they stand for, with their stored index")
    func version1() throws {
        let json = """
        {"inputShape":[784],"inputTransform":{"offset":0,"scale":0.003921569},"layers":[\
        {"dense":{"activation":{"leakyReLU":{"alpha":0.2}},"bias":true,"biasGradient":"scalar_mean","inputs":784,"outputs":16}},\
        {"dense":{"bias":true,"biasGradient":"scalar_mean","inputs":16,"outputs":10}},\
        {"softmax":{"gradient":"diagonal"}},\
        {"conv2d":{"activation":{"relu":{}},"bias":true,"inChannels":1,"kernelSize":3,"outChannels":2,"padding":0,"stride":1}},\
        {"activation":{"_0":{"tanh":{}}}},{"softmax":{}},{"dense":{"activation":{"sigmoid":{}},"bias":false,"inputs":2,"outputs":2}}]}
        """
        let arch = try Architecture(json: json)
        #expect(arch.inputShape == [784])
        #expect(arch.inputTransform == InputTransform(scale: Float(0.003921569), offset: 0))
        #expect(arch.layers == [
            .dense(inputs: 784, outputs: 16, bias: false), .custom(name: LegacyLayers.biasWithMeanGradient, sizes: [784, 16]),
            .activation(.leakyReLU(alpha: 0.2)),
            .dense(inputs: 16, outputs: 10, bias: false), .custom(name: LegacyLayers.biasWithMeanGradient, sizes: [16, 10]),
            .custom(name: LegacyLayers.softmaxWithDiagonalGradient, sizes: []),
            .conv2d(inChannels: 1, outChannels: 2, kernelSize: 3, stride: 1, padding: 0, bias: true), .activation(.relu),
            .activation(.tanh), .softmax,
            .dense(inputs: 2, outputs: 2, bias: false), .activation(.sigmoid),
        ])
        #expect(arch.storedIndex == [0, 0, 0, 1, 1, 2, 3, 3, 4, 5, 6, 6])
    }

    @Test("Broken architecture JSON is refused with a reason",
          arguments: ["[]", "{}", #"{"inputShape":[0],"inputTransform":{"offset":0,"scale":1},"layers":[]}"#,
                      #"{"inputShape":[4],"inputTransform":{"offset":0,"scale":1},"layers":[{"mystery":{}}]}"#,
                      #"{"inputShape":[4],"inputTransform":{"offset":0,"scale":1},"layers":[{"dense":{"inputs":4}}]}"#,
                      #"{"inputShape":[4],"inputTransform":{"offset":0,"scale":1},"layers":[{"activation":{"swish":{}}}]}"#])
    func broken(json: String) {
        #expect(throws: Architecture.Invalid.self) { try Architecture(json: json) }
    }
}
