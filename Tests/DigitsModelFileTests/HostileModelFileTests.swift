import DigitsCore
import DigitsModelFile
import Foundation
import Testing

/// Model files that Foundation's JSON reader would accept but that must be refused (issue 15,
/// items 5 and 8): keys given twice, tensors sharing bytes, tensors the architecture never
/// reads, an input scale or a variance that can only give NaN.
@Suite struct HostileModelFileTests {
    static func file() throws -> Data {
        try Safetensors.encode(SafetensorsTests.model(), inputTransform: SafetensorsTests.transform)
    }

    /// The problem `decode` reports for `data`, or nil when it loads.
    static func problem(_ data: Data) -> String? {
        do { _ = try Safetensors.decode(data, path: "m.safetensors"); return nil } catch { return error.problem }
    }

    /// The file with its header text replaced by `edit(text)`, padded to its old length or more.
    static func editingHeaderText(_ data: Data, _ edit: (String) -> String) throws -> Data {
        let (n, _) = try SafetensorsTests.header(of: data)
        let text = edit(String(decoding: data.subdata(in: 8..<(8 + n)), as: UTF8.self))
        var header = Data(text.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        out.append(data.subdata(in: (8 + n)..<data.count))
        return out
    }

    @Test("an unchanged file loads (the checks below are what refuses)")
    func control() throws {
        #expect(Self.problem(try Self.file()) == nil)
    }

    @Test("a tensor given twice in the header is refused, naming the key")
    func duplicateTensorKey() throws {
        let data = try Self.file()
        let (_, json) = try SafetensorsTests.header(of: data)
        let entry = try #require(json["layers.0.weight"] as? [String: Any])
        let entryText = String(decoding: try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]), as: UTF8.self)
        let doubled = try Self.editingHeaderText(data) { text in
            // A second "layers.0.weight" right after the opening brace.
            "{\"layers.0.weight\":\(entryText)," + text.dropFirst()
        }
        let problem = try #require(Self.problem(doubled))
        #expect(problem.contains("\"layers.0.weight\" twice"), "\(problem)")
    }

    @Test("a key given twice inside the architecture is refused")
    func duplicateArchitectureKey() throws {
        let data = try SafetensorsTests.rewritingHeader(of: try Self.file()) { json in
            var meta = json["__metadata__"] as? [String: String] ?? [:]
            meta["architecture"] = meta["architecture"].map { "{\"inputShape\":[9]," + $0.dropFirst() }
            json["__metadata__"] = meta
        }
        let problem = try #require(Self.problem(data))
        #expect(problem.contains("\"inputShape\" twice"), "\(problem)")
    }

    @Test("two tensors reading the same bytes are refused")
    func overlappingTensors() throws {
        let data = try SafetensorsTests.rewritingHeader(of: try Self.file()) { json in
            // The last dense layer's weight (4×3) re-reads the first 48 bytes, the first weight's.
            var entry = json["layers.3.weight"] as? [String: Any] ?? [:]
            entry["data_offsets"] = [0, 48]
            json["layers.3.weight"] = entry
        }
        let problem = try #require(Self.problem(data))
        #expect(problem.contains("overlap"), "\(problem)")
    }

    @Test("a tensor the architecture does not use is refused, whatever its offsets",
          arguments: [[0, 4], [1 << 40, (1 << 40) + 4]])
    func unusedTensor(offsets: [Int]) throws {
        let data = try SafetensorsTests.rewritingHeader(of: try Self.file()) { json in
            json["stray"] = ["dtype": "F32", "shape": [1], "data_offsets": offsets] as [String: Any]
        }
        let problem = try #require(Self.problem(data))
        #expect(problem.contains("stray is not part of the architecture"), "\(problem)")
    }

    @Test("an input scale that can only overflow is refused on load", arguments: [Float(3e38), -2e6])
    func hugeInputScale(scale: Float) throws {
        let data = try Safetensors.encode(SafetensorsTests.model(), inputTransform: InputTransform(scale: scale))
        let problem = try #require(Self.problem(data))
        #expect(problem.contains("input transform"), "\(problem)")
    }

    @Test("a batch-norm running variance below zero is refused on load")
    func negativeVariance() throws {
        var rng = RandomSource(seed: 3)
        let model = try Sequential(inputShape: [2, 4, 4], specs: [
            .batchNorm(channels: 2, momentum: 0.1, epsilon: 1e-5), .flatten, .dense(inputs: 32, outputs: 3, bias: true),
        ], rng: &rng)
        let variance = try #require(model.parameters.first { $0.name.hasSuffix("running_var") })
        variance.value.data[1] = -1
        let problem = try #require(Self.problem(try Safetensors.encode(model, inputTransform: .unit)))
        #expect(problem.contains("negative variance"), "\(problem)")
    }
}

/// Saving never replaces what is not a regular file (issue 15, item 1).
@Suite struct AtomicFileTargetTests {
    @Test("a symbolic link, a FIFO or a directory at the destination is refused and left as it was")
    func refusesNonRegularFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.safetensors")
        try Data("original".utf8).write(to: target)
        let link = dir.appendingPathComponent("link.safetensors")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let fifo = dir.appendingPathComponent("fifo.safetensors")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let folder = dir.appendingPathComponent("folder.safetensors")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)

        for (url, kind) in [(link, "a symbolic link"), (fifo, "a FIFO"), (folder, "a directory")] {
            let error = #expect(throws: FileWriteError.self) { try AtomicFile.write(Data("new".utf8), to: url) }
            #expect(error?.path == url.path)
            #expect(error?.reason == "it is \(kind), not a regular file: refusing to replace it")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try Data(contentsOf: target) == Data("original".utf8))
        // No temporary file is left behind, and a regular file is still replaced.
        try AtomicFile.write(Data("new".utf8), to: target)
        #expect(try Data(contentsOf: target) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                == ["fifo.safetensors", "folder.safetensors", "link.safetensors", "target.safetensors"])
    }
}
