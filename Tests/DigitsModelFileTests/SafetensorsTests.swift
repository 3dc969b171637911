import DigitsCore
import DigitsModelFile
import Foundation
import Testing

@Suite struct SafetensorsTests {
    static func model(seed: UInt64 = 1) throws -> Sequential {
        var rng = RandomSource(seed: seed)
        return try Sequential(inputShape: [1, 5], specs: [
            .dense(inputs: 5, outputs: 4, bias: true), .activation(.leakyReLU(alpha: 0.1)),
            .activation(.tanh),
            .dense(inputs: 4, outputs: 3, bias: false),
            .softmax,
        ], biasInitializer: .uniform(low: -1, high: 1), rng: &rng)
    }

    static let transform = InputTransform(scale: 1 / 255, offset: -0.5)

    /// The header's length and JSON object.
    static func header(of data: Data) throws -> (length: Int, json: [String: Any]) {
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n)))
        return (n, try #require(object as? [String: Any]))
    }

    /// The file with its header replaced by `edit(header)`.
    static func rewritingHeader(of data: Data, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        var (n, json) = try header(of: data)
        edit(&json)
        let newHeader = try JSONSerialization.data(withJSONObject: json)
        var out = Data()
        withUnsafeBytes(of: UInt64(newHeader.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(newHeader)
        out.append(data.subdata(in: (8 + n)..<data.count))
        return out
    }

    @Test("save then load: the same specs, bit-identical weights and outputs, and the metadata")
    func roundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let model = try Self.model()
        try Safetensors.save(model, inputTransform: Self.transform, metadata: ["test_accuracy": "0.97"], to: url)
        let loaded = try Safetensors.load(from: url)
        #expect(loaded.model.specs == model.specs)
        #expect(loaded.model.inputShape == [1, 5])
        #expect(loaded.model.parameters.map(\.name) == model.parameters.map(\.name))
        #expect(parameterBits(loaded.model) == parameterBits(model))
        #expect(loaded.inputTransform == Self.transform)
        #expect(loaded.metadata["test_accuracy"] == "0.97")
        #expect(loaded.metadata["format"] == "digits")
        #expect(loaded.metadata["architecture"] == nil)

        var rng = RandomSource(seed: 2)
        let x = randomTensor([6, 1, 5], &rng)
        #expect(model(x).array.map(\.bitPattern) == loaded.model(x).array.map(\.bitPattern))
    }

    @Test("The header is as documented: u64 LE length, JSON with F32 tensors, offsets, architecture")
    func format() throws {
        let model = try Self.model()
        let data = Safetensors.encode(model, inputTransform: Self.transform)
        let (n, json) = try Self.header(of: data)
        #expect(n % 8 == 0, "header padded to 8 bytes")
        let meta = try #require(json["__metadata__"] as? [String: String])
        let archJSON = try #require(meta["architecture"])
        let arch = try Architecture(json: archJSON)
        #expect(arch == Architecture(inputShape: [1, 5], inputTransform: Self.transform, layers: model.specs))
        #expect(meta["format_version"] == "2")
        #expect(Set(json.keys) == ["__metadata__", "layers.0.weight", "layers.0.bias", "layers.3.weight"])

        var offset = 0
        for p in model.parameters {
            let entry = try #require(json[p.name] as? [String: Any])
            #expect(entry["dtype"] as? String == "F32")
            #expect(entry["shape"] as? [Int] == p.value.shape)
            let offsets = try #require(entry["data_offsets"] as? [Int])
            #expect(offsets == [offset, offset + 4 * p.value.count], "\(p.name) follows the previous tensor")
            // The raw little-endian F32 values.
            let bytes = data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))
            let values = (0..<p.value.count).map { i in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + 4 * i + $1]) << (8 * $1) })
            }
            #expect(values.map(\.bitPattern) == p.value.array.map(\.bitPattern))
            offset = offsets[1]
        }
        #expect(data.count == 8 + n + offset, "nothing after the last tensor")
    }

    // MARK: - Bad files

    /// Writes `bytes` to a file, loads it, and expects a ModelFileError that names the file.
    static func expectLoadError(_ bytes: Data?, name: String = "bad.safetensors", containing words: String? = nil,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        if let bytes { try bytes.write(to: url) }
        let error = #expect(throws: ModelFileError.self, sourceLocation: sourceLocation) { try Safetensors.load(from: url) }
        #expect(error?.path == url.path, sourceLocation: sourceLocation)
        #expect(error?.description.contains(url.path) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        if let words {
            #expect(error?.problem.contains(words) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        }
    }

    @Test func missingFile() throws { try Self.expectLoadError(nil, containing: "no such file") }

    @Test func emptyFile() throws { try Self.expectLoadError(Data()) }

    @Test("Truncated files: cut in half, or just the last bytes")
    func truncated() throws {
        let good = Safetensors.encode(try Self.model(), inputTransform: .unit)
        try Self.expectLoadError(good.prefix(good.count / 2))
        try Self.expectLoadError(good.prefix(good.count - 4), containing: "truncated")
        try Self.expectLoadError(good.prefix(5))
    }

    @Test("A header length larger than the file")
    func headerTooLong() throws {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(Data("{}      ".utf8))
        try Self.expectLoadError(bytes, containing: "header length")
        var huge = Data(repeating: 0xFF, count: 8)
        huge.append(Data("{}".utf8))
        try Self.expectLoadError(huge, containing: "header length")
    }

    @Test("A header that is not JSON, or JSON without Digits metadata")
    func garbageHeader() throws {
        for text in ["{not json at all]", "[1, 2, 3]", "{\"a\": {\"dtype\": \"F32\"}}", "{\"__metadata__\": {\"architecture\": \"{oops\"}}"] {
            var bytes = Data()
            let header = Data(text.utf8)
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(header)
            try Self.expectLoadError(bytes)
        }
    }

    @Test("A missing tensor, a wrong shape, a wrong dtype, bad offsets")
    func badTensors() throws {
        let good = Safetensors.encode(try Self.model(), inputTransform: .unit)
        try Self.expectLoadError(try Self.rewritingHeader(of: good) { $0["layers.0.bias"] = nil }, containing: "missing")
        try Self.expectLoadError(try Self.rewritingHeader(of: good) {
            var e = $0["layers.0.weight"] as! [String: Any]
            e["shape"] = [4, 5]
            $0["layers.0.weight"] = e
        }, containing: "shape")
        try Self.expectLoadError(try Self.rewritingHeader(of: good) {
            var e = $0["layers.3.weight"] as! [String: Any]
            e["dtype"] = "F16"
            $0["layers.3.weight"] = e
        }, containing: "F32")
        try Self.expectLoadError(try Self.rewritingHeader(of: good) {
            var e = $0["layers.3.weight"] as! [String: Any]
            e["data_offsets"] = [0, 8]
            $0["layers.3.weight"] = e
        }, containing: "offsets")
        // The rewritten but untouched header still loads: the edits are what fail.
        let same = try Self.rewritingHeader(of: good) { _ in }
        #expect(throws: Never.self) { try Safetensors.decode(same, path: "same") }
    }

    @Test("A weight that is not finite")
    func nonFinite() throws {
        let model = try Self.model()
        model.parameters[0].value.data[3] = .nan
        try Self.expectLoadError(Safetensors.encode(model, inputTransform: .unit), containing: "finite")
    }

    // MARK: - Atomic saving

    @Test("Saving leaves no temporary file and replaces an existing file whole")
    func atomic() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        let model = try Self.model()
        try Safetensors.save(model, inputTransform: .unit, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])

        // Over a larger existing file: nothing of the old one remains.
        try Data(repeating: 0xAB, count: 100_000).write(to: url)
        try Safetensors.save(model, inputTransform: .unit, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
        #expect(try Data(contentsOf: url) == Safetensors.encode(model, inputTransform: .unit))

        // Saving again over it, with other weights.
        let other = try Self.model(seed: 9)
        try Safetensors.save(other, inputTransform: .unit, to: url)
        #expect(parameterBits(try Safetensors.load(from: url).model) == parameterBits(other))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
    }

    @Test("Saving into a missing directory fails with an error naming the file")
    func unwritable() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("nope/m.safetensors")
        let model = try Self.model()
        let error = #expect(throws: FileWriteError.self) {
            try Safetensors.save(model, inputTransform: .unit, to: url)
        }
        #expect(error?.path == url.path)
        #expect(error?.description.contains(url.path) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
