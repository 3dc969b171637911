import DigitsCore
import Foundation

/// Reads and writes models in the safetensors format (https://github.com/huggingface/safetensors):
///
///     [8 bytes: header length N, little-endian u64]
///     [N bytes: JSON header, space-padded]
///       { "__metadata__": { "format": "digits", "architecture": "<JSON>" , … },
///         "layers.0.weight": { "dtype": "F32", "shape": [784, 256], "data_offsets": [0, 802816] }, … }
///     [the raw little-endian F32 values of every tensor, back to back]
///
/// The file opens in Python with `safetensors.numpy.load_file(path)`; the architecture, as a
/// JSON string in the metadata, lets `load` rebuild the network with no other information.
public enum Safetensors {
    /// The version written in `__metadata__.format_version`: 2 since layers are textbook ones
    /// (version 1 files still load; see `Architecture`).
    public static let formatVersion = "2"

    /// A loaded model: the network, how to feed it, and the free-form metadata saved with it.
    public struct LoadedModel {
        public var model: Sequential
        public var inputTransform: InputTransform
        public var metadata: [String: String]
    }

    // MARK: - Writing

    /// The file's bytes for `model`, with `metadata` (string to string) stored beside the
    /// architecture.
    public static func encode(_ model: Sequential, inputTransform: InputTransform,
                              metadata: [String: String] = [:]) -> Data {
        let arch = Architecture(inputShape: model.inputShape, inputTransform: inputTransform, layers: model.specs)
        var meta = metadata
        meta["format"] = "digits"
        meta["format_version"] = formatVersion
        meta["architecture"] = arch.json

        var header: [String: Any] = ["__metadata__": meta]
        var offset = 0
        for p in model.parameters {
            let bytes = p.value.count * 4
            header[p.name] = ["dtype": "F32", "shape": p.value.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var headerData = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while headerData.count % 8 != 0 { headerData.append(0x20) }

        var out = Data(capacity: 8 + headerData.count + offset)
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerData)
        for p in model.parameters {
            // Float is stored little-endian on every platform Swift runs on today.
            out.append(UnsafeBufferPointer(start: p.value.data, count: p.value.count))
        }
        return out
    }

    /// Saves `model` to `url` atomically (temporary file, then rename).
    public static func save(_ model: Sequential, inputTransform: InputTransform, metadata: [String: String] = [:],
                            to url: URL) throws(FileWriteError) {
        try AtomicFile.write(encode(model, inputTransform: inputTransform, metadata: metadata), to: url)
    }

    // MARK: - Reading

    /// Loads a model saved by `save` (or by an earlier version of Digits). Layers of the kind
    /// `LayerSpec.custom` are built by `custom`.
    public static func load(from url: URL, custom: CustomLayerMaker? = nil) throws(ModelFileError) -> LoadedModel {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw ModelFileError(path: path, problem: "no such file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ModelFileError(path: path, problem: "cannot be read") }
        return try decode(data, path: path, custom: custom)
    }

    /// Rebuilds a model from a file's bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String, custom: CustomLayerMaker? = nil) throws(ModelFileError) -> LoadedModel {
        func fail(_ problem: String) -> ModelFileError { ModelFileError(path: path, problem: problem) }
        guard data.count >= 8 else { throw fail("too short to be a safetensors file (\(data.count) bytes)") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(data.count - 8) else {
            throw fail("header length \(n) does not fit in a file of \(data.count) bytes (truncated or not safetensors)")
        }
        let headerEnd = 8 + Int(n)
        guard let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)),
              let header = object as? [String: Any] else { throw fail("header is not valid JSON") }
        guard let meta = header["__metadata__"] as? [String: String],
              let archString = meta["architecture"] else {
            throw fail("no Digits architecture in its metadata (not saved by Digits?)")
        }
        let arch: Architecture
        do { arch = try Architecture(json: archString) } catch {
            throw fail("architecture in its metadata cannot be read: \(error.reason)")
        }
        var rng = RandomSource(seed: 0)
        let model: Sequential
        do {
            model = try Sequential(inputShape: arch.inputShape, specs: arch.layers, initializer: .zeros,
                                   custom: custom, rng: &rng)
        } catch { throw fail(error.description) }

        let body = data.count - headerEnd
        func read(_ p: Parameter, stored name: String) throws(ModelFileError) {
            guard let entry = header[name] as? [String: Any] else { throw fail("tensor \(name) is missing") }
            guard entry["dtype"] as? String == "F32" else { throw fail("tensor \(name) is not F32") }
            guard let shape = entry["shape"] as? [Int], shape == p.value.shape else {
                throw fail("tensor \(name) has shape \(entry["shape"] ?? "none"), expected \(p.value.shape)")
            }
            guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[1] - offsets[0] == p.value.count * 4 else {
                throw fail("tensor \(name) has bad data offsets")
            }
            guard offsets[1] <= body else { throw fail("truncated: tensor \(name) ends past the end of the file") }
            data.withUnsafeBytes { raw in
                let src = UnsafeRawBufferPointer(rebasing: raw[(headerEnd + offsets[0])..<(headerEnd + offsets[1])])
                UnsafeMutableRawBufferPointer(start: p.value.data, count: p.value.count * 4).copyMemory(from: src)
            }
            for i in 0..<p.value.count where !p.value.data[i].isFinite {
                throw fail("tensor \(name) holds a value that is not finite")
            }
        }
        for (index, layer) in model.layers.enumerated() {
            for p in layer.parameters {
                // "layers.I.NAME", where the file may number the layer differently (version 1).
                let local = p.name.dropFirst("layers.\(index).".count)
                try read(p, stored: "layers.\(arch.storedIndex[index]).\(local)")
            }
        }

        var extra = meta
        extra["architecture"] = nil
        return LoadedModel(model: model, inputTransform: arch.inputTransform, metadata: extra)
    }
}

/// A model file that cannot be loaded, and why.
public struct ModelFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "model file \(path): \(problem)" }
}
