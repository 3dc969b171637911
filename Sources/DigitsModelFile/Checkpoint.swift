import DigitsCore
import Foundation

/// A training checkpoint: everything `Trainer` needs to continue a run exactly, in one
/// safetensors file (https://github.com/huggingface/safetensors):
///
///     tensors   model.PARAMETER          F32  every parameter of the model (weights, biases,
///                                             BatchNorm's running statistics)
///               optimizer.PARAMETER.KIND F32  momentum (`velocity`) or Adam's moments (`m`, `v`)
///               average.PARAMETER        F32  the weight average of every parameter, when the
///                                             plan averages weights (`WeightAveraging`)
///               sampler.order            I64  the current pass's order of the training samples
///     __metadata__
///               format          "digits-checkpoint"
///               format_version  "1"
///               state           JSON: the step, the sampler's position, every generator's
///                               state (four 64-bit words as decimal strings), the optimiser's
///                               step count, the interval under way, the reports so far,
///                               the steps averaged (`average_count`, with an average)
///               …               the app's own entries (the command's arguments)
///
/// Floating-point numbers in `state` are written as the hexadecimal bit patterns of their
/// `Double` (or `Float`) values, so that a resumed run reports exactly what the whole run would.
public struct Checkpoint {
    /// The model's parameters by name (`layers.0.weight`).
    public var parameters: [String: Tensor]
    /// The trainer's state.
    public var state: Trainer.State
    /// The app's entries of the metadata.
    public var metadata: [String: String]

    /// The value of `__metadata__.format`.
    public static let format = "digits-checkpoint"
    /// The value of `__metadata__.format_version`.
    public static let formatVersion = "1"

    // MARK: - Writing

    /// The checkpoint file's bytes for `model` (its parameters) and `state`, with the app's
    /// `metadata`.
    public static func encode(model: Sequential, state: Trainer.State, metadata: [String: String] = [:]) -> Data {
        var tensors: [(name: String, dtype: String, shape: [Int], bytes: UnsafeRawBufferPointer)] = []
        for p in model.parameters {
            tensors.append(("model.\(p.name)", "F32", p.value.shape, UnsafeRawBufferPointer(start: p.value.data, count: p.value.count * 4)))
        }
        for name in state.optimizer.tensors.keys.sorted() {
            if let t = state.optimizer.tensors[name] {
                tensors.append(("optimizer.\(name)", "F32", t.shape, UnsafeRawBufferPointer(start: t.data, count: t.count * 4)))
            }
        }
        if let average = state.average {
            for name in average.tensors.keys.sorted() {
                if let t = average.tensors[name] {
                    tensors.append(("average.\(name)", "F32", t.shape, UnsafeRawBufferPointer(start: t.data, count: t.count * 4)))
                }
            }
        }
        let order = state.sampler.order.map { Int64($0).littleEndian }
        return order.withUnsafeBytes { orderBytes in
            tensors.append(("sampler.order", "I64", [order.count], orderBytes))
            var meta = metadata
            meta["format"] = format
            meta["format_version"] = formatVersion
            meta["state"] = StateJSON.encode(state)
            var header: [String: Any] = ["__metadata__": meta]
            var offset = 0
            for t in tensors {
                header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]] as [String: Any]
                offset += t.bytes.count
            }
            var headerData = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
            while headerData.count % 8 != 0 { headerData.append(0x20) }
            var out = Data(capacity: 8 + headerData.count + offset)
            withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(headerData)
            // Float is stored little-endian on every platform Swift runs on today.
            for t in tensors { out.append(contentsOf: t.bytes) }
            return out
        }
    }

    /// Writes a checkpoint to `url` atomically (a temporary file, then a rename; the temporary
    /// file is removed if anything fails).
    public static func save(model: Sequential, state: Trainer.State, metadata: [String: String] = [:],
                            to url: URL) throws(FileWriteError) {
        try AtomicFile.write(encode(model: model, state: state, metadata: metadata), to: url)
    }

    // MARK: - Reading

    /// Reads a checkpoint written by `save`.
    public static func load(from url: URL) throws(CheckpointError) -> Checkpoint {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path: path, problem: "no such file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw CheckpointError(path: path, problem: "cannot be read") }
        return try decode(data, path: path)
    }

    /// Reads a checkpoint from its bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String) throws(CheckpointError) -> Checkpoint {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }
        let header: [String: Any], headerEnd: Int
        switch SafetensorsHeader.read(data, kind: "a checkpoint") {
        case .success(let read): (header, headerEnd) = read
        case .failure(let problem): throw fail(problem.message)
        }
        guard let meta = header["__metadata__"] as? [String: String], meta["format"] == format else {
            throw fail("not a Digits checkpoint (its metadata has no format \"\(format)\")")
        }
        guard meta["format_version"] == formatVersion else {
            throw fail("checkpoint format version \(meta["format_version"] ?? "none") is not \(formatVersion)")
        }

        // The tensors: known types, sizes that match their shapes, back to back from 0 to the end.
        let body = data.count - headerEnd
        var entries: [(name: String, dtype: String, shape: [Int], start: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor \(name) is not described by dtype, shape and data_offsets") }
            guard let size = ["F32": 4, "I64": 8][dtype] else { throw fail("tensor \(name) has dtype \(dtype), not F32 or I64") }
            var count = 1
            for d in shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw fail("tensor \(name) has an impossible shape \(shape)") }
                count = c
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] - offsets[0] == bytes else {
                throw fail("tensor \(name) has data offsets that do not match its shape \(shape)")
            }
            guard offsets[1] <= body else { throw fail("truncated: tensor \(name) ends past the end of the file") }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        entries.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        var expected = 0
        for e in entries {
            guard e.start == expected else { throw fail("tensor \(e.name)'s data overlaps another's or leaves a gap") }
            expected = e.end
        }
        guard expected == body else { throw fail("\(body - expected) bytes after the last tensor") }

        var parameters: [String: Tensor] = [:], optimizerTensors: [String: Tensor] = [:], order: [Int]?
        var averageTensors: [String: Tensor] = [:]
        for e in entries {
            if e.dtype == "I64" {
                guard e.name == "sampler.order", e.shape.count == 1 else { throw fail("unexpected I64 tensor \(e.name)") }
                var values = [Int](repeating: 0, count: e.shape[0])
                data.withUnsafeBytes { raw in
                    for i in 0..<values.count {
                        values[i] = Int(truncatingIfNeeded: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: headerEnd + e.start + 8 * i, as: Int64.self)))
                    }
                }
                order = values
                continue
            }
            let t = Tensor(shape: e.shape)
            data.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(start: t.data, count: t.count * 4)
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(headerEnd + e.start)..<(headerEnd + e.end)]))
            }
            for i in 0..<t.count where !t.data[i].isFinite { throw fail("tensor \(e.name) holds a value that is not finite") }
            if e.name.hasPrefix("model.") {
                parameters[String(e.name.dropFirst("model.".count))] = t
            } else if e.name.hasPrefix("optimizer.") {
                optimizerTensors[String(e.name.dropFirst("optimizer.".count))] = t
            } else if e.name.hasPrefix("average.") {
                averageTensors[String(e.name.dropFirst("average.".count))] = t
            } else {
                throw fail("unexpected tensor \(e.name)")
            }
        }
        guard let order else { throw fail("tensor sampler.order is missing") }
        guard let stateText = meta["state"] else { throw fail("no training state in its metadata") }
        let state: Trainer.State
        do { state = try StateJSON.decode(stateText, order: order, optimizer: optimizerTensors, average: averageTensors) } catch {
            throw fail("training state in its metadata cannot be read: \(error.problem)")
        }
        var extra = meta
        for key in ["format", "format_version", "state"] { extra[key] = nil }
        return Checkpoint(parameters: parameters, state: state, metadata: extra)
    }

    // MARK: - Into a model

    /// Copies the saved parameters into `model`, which must have exactly those parameters,
    /// with the same shapes (a model built from the same recipe).
    public func restoreParameters(into model: Sequential, path: String) throws(CheckpointError) {
        let wanted = model.parameters
        for p in wanted {
            guard let saved = parameters[p.name] else { throw CheckpointError(path: path, problem: "tensor model.\(p.name) is missing") }
            guard saved.shape == p.value.shape else {
                throw CheckpointError(path: path, problem: "tensor model.\(p.name) has shape \(saved.shape), expected \(p.value.shape)")
            }
        }
        guard wanted.count == parameters.count else {
            throw CheckpointError(path: path, problem: "holds \(parameters.count) model tensors, the network has \(wanted.count)")
        }
        for p in wanted {
            if let saved = parameters[p.name] { p.value.data.update(from: saved.data, count: saved.count) }
        }
    }
}

/// A checkpoint that cannot be read, and why.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "checkpoint \(path): \(problem)" }
}

// MARK: - The state as JSON

/// `Trainer.State` (without its tensors) as the JSON of the metadata's `state` entry.
enum StateJSON {
    struct Problem: Error { var problem: String }

    static func encode(_ s: Trainer.State) -> String {
        func rng(_ r: RandomSource) -> [String] { r.state.map { String($0) } }
        func bits(_ x: Double) -> String { String(x.bitPattern, radix: 16) }
        let reports: [[String: Any]] = s.reports.map { r in
            var o: [String: Any] = ["epoch": r.epoch, "step": r.step, "train_loss": bits(r.trainLoss),
                                    "train_accuracy": bits(r.trainAccuracy), "seconds": bits(r.seconds),
                                    "learning_rate": String(r.learningRate.bitPattern, radix: 16)]
            if let v = r.validationLoss { o["validation_loss"] = bits(v) }
            if let v = r.validationAccuracy { o["validation_accuracy"] = bits(v) }
            if let v = r.testLoss { o["test_loss"] = bits(v) }
            if let v = r.testAccuracy { o["test_accuracy"] = bits(v) }
            return o
        }
        var object: [String: Any] = [
            "step": s.step,
            "sampler": ["position": s.sampler.position, "rng": rng(s.sampler.rng)] as [String: Any],
            "augmentation_rng": rng(s.augmentationRNG),
            "dropout_rngs": s.dropoutRNGs.map(rng),
            "optimizer_steps": s.optimizer.steps,
            "metrics": ["loss_sum": bits(s.metrics.lossSum), "correct": s.metrics.correct, "count": s.metrics.count] as [String: Any],
            "interval_seconds": bits(s.intervalSeconds),
            "reports": reports,
        ]
        if let average = s.average { object["average_count"] = average.count }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String, order: [Int], optimizer: [String: Tensor],
                       average: [String: Tensor] = [:]) throws(Problem) -> Trainer.State {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw Problem(problem: "not a JSON object")
        }
        func int(_ value: Any?, _ name: String) throws(Problem) -> Int {
            guard let v = value as? Int, v >= 0 else { throw Problem(problem: "\(name) is not a count") }
            return v
        }
        func double(_ value: Any?, _ name: String) throws(Problem) -> Double {
            guard let s = value as? String, let b = UInt64(s, radix: 16) else { throw Problem(problem: "\(name) is not a bit pattern") }
            return Double(bitPattern: b)
        }
        func rng(_ value: Any?, _ name: String) throws(Problem) -> RandomSource {
            guard let words = value as? [String], case let w = words.compactMap({ UInt64($0) }), w.count == words.count,
                  let r = RandomSource(state: w) else { throw Problem(problem: "\(name) is not a generator's state") }
            return r
        }
        guard let sampler = o["sampler"] as? [String: Any], let metrics = o["metrics"] as? [String: Any],
              let dropouts = o["dropout_rngs"] as? [Any], let reportObjects = o["reports"] as? [[String: Any]] else {
            throw Problem(problem: "sampler, metrics, dropout_rngs or reports missing")
        }
        var dropoutRNGs: [RandomSource] = []
        for d in dropouts { dropoutRNGs.append(try rng(d, "a dropout generator")) }
        var reports: [TrainingReport] = []
        for r in reportObjects {
            guard let lrText = r["learning_rate"] as? String, let lrBits = UInt32(lrText, radix: 16) else {
                throw Problem(problem: "a report's learning_rate is not a bit pattern")
            }
            var report = TrainingReport(epoch: try int(r["epoch"], "epoch"), step: try int(r["step"], "step"),
                                        trainLoss: try double(r["train_loss"], "train_loss"),
                                        trainAccuracy: try double(r["train_accuracy"], "train_accuracy"),
                                        seconds: try double(r["seconds"], "seconds"), learningRate: Float(bitPattern: lrBits))
            if r["validation_loss"] != nil { report.validationLoss = try double(r["validation_loss"], "validation_loss") }
            if r["validation_accuracy"] != nil { report.validationAccuracy = try double(r["validation_accuracy"], "validation_accuracy") }
            if r["test_loss"] != nil { report.testLoss = try double(r["test_loss"], "test_loss") }
            if r["test_accuracy"] != nil { report.testAccuracy = try double(r["test_accuracy"], "test_accuracy") }
            reports.append(report)
        }
        var averageState: WeightAverage.State?
        if o["average_count"] != nil {
            averageState = WeightAverage.State(count: try int(o["average_count"], "average_count"), tensors: average)
        } else if !average.isEmpty {
            throw Problem(problem: "average tensors without average_count")
        }
        return Trainer.State(
            step: try int(o["step"], "step"),
            sampler: BatchSampler.State(order: order, position: try int(sampler["position"], "sampler position"),
                                        rng: try rng(sampler["rng"], "the sampler's generator")),
            augmentationRNG: try rng(o["augmentation_rng"], "the augmentation's generator"),
            dropoutRNGs: dropoutRNGs,
            optimizer: OptimizerState(steps: try int(o["optimizer_steps"], "optimizer_steps"), tensors: optimizer),
            metrics: Metrics(lossSum: try double(metrics["loss_sum"], "loss_sum"), correct: try int(metrics["correct"], "correct"),
                             count: try int(metrics["count"], "count")),
            intervalSeconds: try double(o["interval_seconds"], "interval_seconds"),
            reports: reports, average: averageState)
    }
}
