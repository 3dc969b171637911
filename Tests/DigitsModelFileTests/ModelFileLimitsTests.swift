import DigitsCore
import DigitsModelFile
import Foundation
import Testing

/// Model files whose sizes trapped or allocated without bound before `Safetensors.decode` checked
/// them (found by the fuzz target `FuzzModel`, Fuzz/README.md; ported from the fuzz helper's
/// branch to this target). Each must be refused with an error.
@Suite struct ModelFileLimitsTests {
    /// A model file holding `architecture` (JSON text) in its metadata and no tensors.
    static func file(architecture: String) throws -> Data {
        let header = try JSONSerialization.data(withJSONObject: ["__metadata__": ["architecture": architecture]])
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        return data
    }

    static func architecture(input: String, layers: String) -> String {
        "{\"inputShape\":\(input),\"inputTransform\":{\"offset\":0,\"scale\":1},\"layers\":[\(layers)]}"
    }

    static func expectRefused(_ data: Data, containing words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: ModelFileError.self, sourceLocation: sourceLocation) {
            try Safetensors.decode(data, path: "hostile.safetensors")
        }
        #expect(error?.problem.contains(words) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test("Sizes that overflowed, went negative or asked for terabytes are refused before any allocation",
          arguments: [
              // Dense 4 → 2³¹: tried to allocate 32 GiB.
              ("[4]", "{\"dense\":{\"inputs\":4,\"outputs\":2147483648,\"bias\":true}}", "too large"),
              // Dense 2⁴⁰ × 2⁴⁰: overflowed computing the weight count.
              ("[1099511627776]", "{\"dense\":{\"inputs\":1099511627776,\"outputs\":1099511627776,\"bias\":true}}", "input shape"),
              ("[4]", "{\"dense\":{\"inputs\":1099511627776,\"outputs\":1099511627776,\"bias\":true}}", "too large"),
              // An input shape of negative sizes: a precondition failed when a tensor was made for it.
              ("[-1,-784]", "{\"flatten\":{}}", "input shape"),
              // A kernel of 2⁶²: overflowed in the convolution's initialiser.
              ("[1,28,28]", "{\"conv2d\":{\"inChannels\":1,\"outChannels\":1,\"kernelSize\":4611686018427387904,\"stride\":1,\"padding\":0,\"bias\":false}}", "too large"),
              // Small weights, enormous outputs: 4096 channels of 4096 × 4096 for one sample.
              ("[1,4096,4096]", "{\"conv2d\":{\"inChannels\":1,\"outChannels\":4096,\"kernelSize\":1,\"stride\":1,\"padding\":0,\"bias\":false}}", "values per sample"),
          ])
    func hostileSizes(input: String, layer: String, words: String) throws {
        Self.expectRefused(try Self.file(architecture: Self.architecture(input: input, layers: layer)), containing: words)
    }

    @Test("A convolution whose patch matrix alone would need gigabytes")
    func hugePatchMatrix() throws {
        // 4096 channels × 16 × 16 kernel over a 64 × 64 map: weights 1 Mi, patches 2.5 G values.
        let layer = "{\"conv2d\":{\"inChannels\":4096,\"outChannels\":1,\"kernelSize\":16,\"stride\":1,\"padding\":0,\"bias\":false}}"
        Self.expectRefused(try Self.file(architecture: Self.architecture(input: "[4096,64,64]", layers: layer)), containing: "patch")
    }

    @Test("More layers than the limit")
    func tooManyLayers() throws {
        let layers = Array(repeating: "{\"activation\":{\"_0\":{\"relu\":{}}}}", count: 2_000)
        Self.expectRefused(try Self.file(architecture: Self.architecture(input: "[4]", layers: layers.joined(separator: ","))),
                           containing: "layers")
    }

    @Test("Data offsets whose difference overflows (end Int.min) are bad offsets, not a trap")
    func offsetsOverflow() throws {
        var rng = RandomSource(seed: 1)
        let model = try Sequential(inputShape: [4], specs: [.dense(inputs: 4, outputs: 2, bias: false)],
                                   rng: &rng)
        let good = Safetensors.encode(model, inputTransform: .unit)
        let n = good.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try #require(try JSONSerialization.jsonObject(with: good.subdata(in: 8..<(8 + n))) as? [String: Any])
        var entry = try #require(header["layers.0.weight"] as? [String: Any])
        entry["data_offsets"] = [1, Int.min]
        header["layers.0.weight"] = entry
        let json = try JSONSerialization.data(withJSONObject: header)
        var bad = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bad.append(contentsOf: $0) }
        bad.append(json)
        bad.append(good.subdata(in: (8 + n)..<good.count))
        Self.expectRefused(bad, containing: "offsets")
    }

    @Test("The limits leave every preset's shapes alone: a model like cnn-best still loads")
    func realModelsLoad() throws {
        var rng = RandomSource(seed: 1)
        let model = try Sequential(inputShape: [1, 28, 28], specs: [
            .conv2d(inChannels: 1, outChannels: 32, kernelSize: 5, stride: 1, padding: 2, bias: false),
            .batchNorm(channels: 32, momentum: 0.1, epsilon: 1e-5),
            .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2),
            .conv2d(inChannels: 32, outChannels: 64, kernelSize: 3, stride: 1, padding: 1, bias: false), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2),
            .flatten,
            .dense(inputs: 3136, outputs: 256, bias: true), .activation(.relu),
            .dense(inputs: 256, outputs: 10, bias: true),
        ], rng: &rng)
        let loaded = try Safetensors.decode(Safetensors.encode(model, inputTransform: .unit), path: "cnn")
        #expect(loaded.model.specs == model.specs)
    }
}
