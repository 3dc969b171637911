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
        let header: [String: Any], headerEnd: Int
        switch SafetensorsHeader.read(data, kind: "a safetensors file") {
        case .success(let read): (header, headerEnd) = read
        case .failure(let problem): throw fail(problem.message)
        }
        guard let meta = header["__metadata__"] as? [String: String],
              let archString = meta["architecture"] else {
            throw fail("no Digits architecture in its metadata (not saved by Digits?)")
        }
        if let key = DuplicateKeys.first(in: Array(archString.utf8)) {
            throw fail("architecture in its metadata has the key \"\(key)\" twice")
        }
        let arch: Architecture
        do { arch = try Architecture(json: archString) } catch {
            throw fail("architecture in its metadata cannot be read: \(error.reason)")
        }
        if let problem = sizeProblem(arch) { throw fail(problem) }
        let t = arch.inputTransform
        guard t.scale.isFinite, t.offset.isFinite, abs(t.scale) <= Limits.inputScale, abs(t.offset) <= Limits.inputScale else {
            throw fail("input transform (scale \(t.scale), offset \(t.offset)) is not finite or beyond ±\(Limits.inputScale)")
        }
        var rng = RandomSource(seed: 0)
        let model: Sequential
        var shapes: [[Int]] = []  // each layer's output for one sample
        do {
            model = try Sequential(inputShape: arch.inputShape, specs: arch.layers, initializer: .zeros,
                                   custom: custom, rng: &rng)
            var shape = arch.inputShape
            for layer in model.layers {
                shape = try layer.outputShape(for: shape)
                shapes.append(shape)
            }
        } catch { throw fail(error.description) }
        if let i = shapes.firstIndex(where: { product($0) > Limits.valuesPerSample }) {
            throw fail("layer \(i) makes \(shapes[i]) values per sample, more than \(Limits.valuesPerSample)")
        }
        for (i, spec) in arch.layers.enumerated() {
            // A convolution's patch matrix (im2col): (inChannels·k·k) × (outH·outW) per sample.
            if case let .conv2d(inChannels, _, k, _, _, _) = spec,
               product([inChannels, k, k, shapes[i][1], shapes[i][2]]) > Limits.patchValuesPerSample {
                throw fail("layer \(i) (\(spec)) needs more than \(Limits.patchValuesPerSample) patch values per sample")
            }
        }

        let body = data.count - headerEnd
        var ranges: [(start: Int, end: Int, name: String)] = []
        func read(_ p: Parameter, stored name: String) throws(ModelFileError) {
            guard let entry = header[name] as? [String: Any] else { throw fail("tensor \(name) is missing") }
            guard entry["dtype"] as? String == "F32" else { throw fail("tensor \(name) is not F32") }
            guard let shape = entry["shape"] as? [Int], shape == p.value.shape else {
                throw fail("tensor \(name) has shape \(entry["shape"] ?? "none"), expected \(p.value.shape)")
            }
            guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0,
                  offsets[1] >= offsets[0], offsets[1] - offsets[0] == p.value.count * 4 else {
                throw fail("tensor \(name) has bad data offsets")
            }
            guard offsets[1] <= body else { throw fail("truncated: tensor \(name) ends past the end of the file") }
            ranges.append((offsets[0], offsets[1], name))
            data.withUnsafeBytes { raw in
                let src = UnsafeRawBufferPointer(rebasing: raw[(headerEnd + offsets[0])..<(headerEnd + offsets[1])])
                UnsafeMutableRawBufferPointer(start: p.value.data, count: p.value.count * 4).copyMemory(from: src)
            }
            for i in 0..<p.value.count where !p.value.data[i].isFinite {
                throw fail("tensor \(name) holds a value that is not finite")
            }
            if p.name.hasSuffix(".running_var"), (0..<p.value.count).contains(where: { p.value.data[$0] < 0 }) {
                throw fail("tensor \(name) holds a negative variance")
            }
        }
        for (index, layer) in model.layers.enumerated() {
            for p in layer.parameters {
                // "layers.I.NAME", where the file may number the layer differently (version 1).
                let local = p.name.dropFirst("layers.\(index).".count)
                try read(p, stored: "layers.\(arch.storedIndex[index]).\(local)")
            }
        }

        // Every tensor in the file is one the architecture reads, each in bytes of its own.
        let used = Set(ranges.map(\.name))
        if let unused = header.keys.filter({ $0 != "__metadata__" && !used.contains($0) }).sorted().first {
            throw fail("tensor \(unused) is not part of the architecture")
        }
        let sorted = ranges.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.start < a.end {
            throw fail("tensors \(a.name) and \(b.name) overlap in the file's data")
        }

        var extra = meta
        extra["architecture"] = nil
        return LoadedModel(model: model, inputTransform: arch.inputTransform, metadata: extra)
    }
}

extension Safetensors {
    /// The sizes a model file may ask for. A file controls every size in its architecture, so
    /// `decode` checks them before anything is allocated (found by the fuzz target `FuzzModel`:
    /// sizes such as 2⁴⁰ or −1 trapped on overflow or a precondition, and large ones allocated
    /// without bound).
    public enum Limits {
        /// Layers in a network.
        public static let layers = 1_024
        /// Any one size: an input dimension, a layer's inputs, outputs or channels.
        public static let dimension = 1 << 24
        /// A convolution's or pooling's kernel and stride.
        public static let kernel = 256
        /// Weights in one layer (1 GiB of F32).
        public static let weightsPerLayer = 1 << 28
        /// Values in the input, and in any layer's output, for one sample (64 MiB of F32).
        public static let valuesPerSample = 1 << 24
        /// Values in a convolution's patch matrix for one sample (256 MiB of F32).
        public static let patchValuesPerSample = 1 << 26
        /// The input transform's scale and offset, in absolute value (MNIST's is 1/255).
        public static let inputScale: Float = 1_000_000
    }

    /// What is wrong with the architecture's sizes, or nil when they are within `Limits`.
    /// Sizes below 1 are left to the layers, which refuse them by name.
    static func sizeProblem(_ arch: Architecture) -> String? {
        guard arch.layers.count <= Limits.layers else {
            return "\(arch.layers.count) layers, more than \(Limits.layers)"
        }
        guard (1...4).contains(arch.inputShape.count), arch.inputShape.allSatisfy({ $0 >= 1 }),
              arch.inputShape.allSatisfy({ $0 <= Limits.dimension }), product(arch.inputShape) <= Limits.valuesPerSample else {
            return "input shape \(arch.inputShape) is not 1 to 4 positive sizes of at most \(Limits.valuesPerSample) values"
        }
        for (i, spec) in arch.layers.enumerated() {
            var sizes: [Int] = [], kernel: [Int] = [], weights: [Int] = []
            switch spec {
            case let .dense(inputs, outputs, _):
                (sizes, weights) = ([inputs, outputs], [inputs, outputs])
            case let .conv2d(inChannels, outChannels, k, stride, padding, _):
                (sizes, kernel, weights) = ([inChannels, outChannels], [k, stride, padding], [inChannels, outChannels, k, k])
            case let .maxPool2d(k, stride):
                kernel = [k, stride]
            case let .batchNorm(channels, _, _):
                sizes = [channels]
            case let .custom(_, customSizes):
                (sizes, weights) = (customSizes, customSizes)
            case .activation, .softmax, .flatten, .dropout, .globalAveragePool:
                break
            }
            guard sizes.allSatisfy({ $0 <= Limits.dimension }), kernel.allSatisfy({ $0 <= Limits.kernel }),
                  product(weights) <= Limits.weightsPerLayer else {
                return "layer \(i) (\(spec)) is too large: sizes up to \(Limits.dimension), kernels and strides up to \(Limits.kernel), \(Limits.weightsPerLayer) weights"
            }
        }
        return nil
    }

    /// The product of `sizes` (negative ones count as 0), or `Int.max` when it overflows.
    static func product(_ sizes: [Int]) -> Int {
        var result = 1
        for size in sizes {
            let (next, overflow) = result.multipliedReportingOverflow(by: max(0, size))
            if overflow { return Int.max }
            result = next
        }
        return result
    }
}

/// A model file that cannot be loaded, and why.
public struct ModelFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "model file \(path): \(problem)" }
}
