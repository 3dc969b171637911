import DigitsCore
import DigitsData
import Foundation
#if OpenBLAS
import DigitsBLAS
#endif

/// `digits bench`: what this machine can do, and how close Digits gets to it, in one run.
///
/// Measures the FMA peak, the matrix multiply on the training shapes, training epochs of the
/// reference MLP, two tutorial presets, inference, and peak memory. Every timing is the best of
/// a few repeats, since other programs share the CPU.
public enum Benchmark {
    /// What to run.
    public struct Options: Sendable {
        /// Threads the GEMM kernel may use during training and inference; nil for what
        /// `SIMDGEMM.automatic()` measures to pay.
        public var threads: Int?
        /// Repeats of each GEMM and peak measurement (the best is kept).
        public var repeats: Int
        /// Epochs timed per batch size (the best is kept).
        public var epochRepeats: Int
        /// Whether to time the slow batch-1 epoch of the 784-256-128-10 network.
        public var batchOne: Bool
        /// The parts to run; all of them when nil.
        public var sections: Set<Section>?

        /// The parts of the benchmark.
        public enum Section: String, Sendable, CaseIterable {
            case peak, gemm, epochs, presets, inference, cnn, reader
        }

        public init(threads: Int? = nil, repeats: Int = 5, epochRepeats: Int = 2, batchOne: Bool = true,
                    sections: Set<Section>? = nil) {
            self.threads = threads
            self.repeats = repeats
            self.epochRepeats = epochRepeats
            self.batchOne = batchOne
            self.sections = sections
        }

        func runs(_ section: Section) -> Bool { sections?.contains(section) ?? true }
    }

    /// Runs everything, calling `log` with a line as each part finishes.
    public static func run(_ options: Options, log: (String) -> Void = { _ in }) throws(AppError) -> BenchReport {
        let kernel = options.threads.map { SIMDGEMM(threads: $0) } ?? SIMDGEMM.automatic()
        var report = BenchReport(machine: BenchMachine.describe(), kernel: kernel.name)
        let saved = GEMM.kernel
        defer { GEMM.kernel = saved }

        // MARK: Peak
        // Many short samples, the best kept: a sample that the scheduler interrupted is slow,
        // and a short one is rarely interrupted.
        if options.runs(.peak) || options.runs(.gemm) {
        report.fmaPeak = FMAPeak.measure(threads: 1, repeats: options.repeats * 10, iterations: 500_000)
        report.fmaPeakTwoThreads = FMAPeak.measure(threads: 2, repeats: options.repeats * 10, iterations: 500_000)
        report.fmaLanes = FMAPeak.lanes
        log("FMA peak (\(report.fmaLanes)-lane vectors): \(fixed(report.fmaPeak, 1)) GFLOP/s on one thread, \(fixed(report.fmaPeakTwoThreads, 1)) on two")

        }

        // MARK: GEMM
        for shape in GEMMShape.training where options.runs(.gemm) {
            var row = shape
            row.gflops = shape.measure(kernel: SIMDGEMM(threads: 1), repeats: options.repeats)
            row.gflopsTwoThreads = shape.measure(kernel: SIMDGEMM(threads: 2, minFlopsPerThread: 1), repeats: options.repeats)
            row.percentOfPeak = 100 * row.gflops / report.fmaPeak
            #if OpenBLAS
            row.gflopsOpenBLAS = shape.measure(kernel: BLASGEMM(), repeats: options.repeats)
            #endif
            report.gemm.append(row)
            log("GEMM \(row.name): \(fixed(row.gflops, 1)) GFLOP/s (\(fixed(row.percentOfPeak, 0))% of peak), two threads \(fixed(row.gflopsTwoThreads, 1))")
        }

        // MARK: The shipped reader (issue 14: ReaderBenchmark.swift)
        if options.runs(.reader) { log(try ReaderBenchmark.run()) }

        // MARK: Training
        guard options.runs(.epochs) || options.runs(.presets) || options.runs(.cnn) || options.runs(.inference) else {
            return report   // only the peak and the multiply: no data loaded, no training, no memory figure
        }
        let images: (train: ImageSet, test: ImageSet)
        do { images = try MNIST.loadBundled() } catch { throw AppError(error.description) }
        let train = try images.train.dataset(sampleShape: [784], source: .bundled)
        let test = try images.test.dataset(sampleShape: [784], source: .bundled)
        GEMM.kernel = kernel

        for batch in !options.runs(.epochs) ? [] : options.batchOne ? [64, 256, 1] : [64, 256] {
            let repeats = batch == 1 ? 1 : options.epochRepeats
            var best = EpochTiming(name: "mlp-784-256-128-10", batch: batch, seconds: .infinity, testAccuracy: 0)
            for _ in 0..<repeats {
                let t = try timeRecipe(referenceMLP(batch: batch), train: train, test: test)
                if t.seconds < best.seconds { best.seconds = t.seconds; best.testAccuracy = t.accuracy }
            }
            report.epochs.append(best)
            if batch == 64 { report.peakResidentMB = BenchMachine.peakResidentMegabytes() }
            log("MLP epoch, batch \(batch): \(fixed(best.seconds, 3)) s, test accuracy \(fixed(100 * best.testAccuracy, 2))%")
        }

        for name in ["tutorial-sigmoid-16-16", "tutorial-leaky-256-128"] where options.runs(.presets) {
            guard let preset = Presets.named(name) else { continue }
            var best = PresetTiming(name: name, seconds: .infinity, testAccuracy: 0)
            for _ in 0..<options.epochRepeats {
                let t = try timeRecipe(preset.recipe, train: train, test: test)
                if t.seconds < best.seconds { best.seconds = t.seconds; best.testAccuracy = t.accuracy }
            }
            report.presets.append(best)
            log("preset \(name): \(fixed(best.seconds, 3)) s, test accuracy \(fixed(100 * best.testAccuracy, 2))%")
        }

        // MARK: Convolutional networks
        if options.runs(.cnn) {
            try runConvolutional(options, images: images, kernel: kernel, into: &report, log: log)
        }

        // MARK: Inference
        guard options.runs(.inference) else {
            if options.runs(.epochs) || options.runs(.presets) || options.runs(.cnn) {
                report.peakResidentMB = BenchMachine.peakResidentMegabytes()
            }
            return report
        }
        let model: Sequential
        do { model = try referenceMLP(batch: 64).makeModel() } catch { throw AppError(error.description) }
        report.inferenceImagesPerSecond = inferenceRate(model, test, repeats: options.repeats)
        report.latencyMicroseconds = latency(model, test)
        log("inference: \(Int(report.inferenceImagesPerSecond)) images/s, one image in \(fixed(report.latencyMicroseconds, 1)) µs")
        if report.peakResidentMB == nil && (options.runs(.presets) || options.runs(.cnn)) {
            report.peakResidentMB = BenchMachine.peakResidentMegabytes()
        }
        return report
    }

    // MARK: - The reference network

    /// 784-256-128-10 ReLU, He initialisation, softmax cross-entropy, SGD with momentum 0.9 at
    /// learning rate 0.05, shuffled batches, one epoch: the network PyTorch is timed on.
    public static func referenceMLP(batch: Int) -> Recipe {
        Recipe(network: .mlp(MLPRecipe(hidden: [256, 128], activation: .relu, initializer: .he)),
               loss: .crossEntropy, inputTransform: .unit,
               plan: TrainingPlan(batchSize: batch, batching: .shuffled, length: .epochs(1),
                                  optimizer: .momentum(0.9, nesterov: false), learningRate: 0.05, reduction: .mean),
               seed: 1)
    }

    /// Trains a fresh model by `recipe`; the seconds of training (evaluation excluded) and the
    /// test accuracy after.
    static func timeRecipe(_ recipe: Recipe, train: Dataset, test: Dataset) throws(AppError) -> (seconds: Double, accuracy: Double) {
        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw AppError(error.description) }
        let loss = recipe.loss.make()
        let reports: [TrainingReport]
        do {
            let trainer = try Trainer(model: model, loss: loss, plan: recipe.plan, transform: recipe.inputTransform,
                                      rng: recipe.trainingRandomSource)
            reports = try trainer.train(on: train)
        } catch { throw AppError(error.description) }
        let seconds = reports.reduce(0) { $0 + $1.seconds }
        let accuracy = Evaluator.evaluate(model, loss: loss, on: test, transform: recipe.inputTransform).accuracy
        return (seconds, accuracy)
    }

    // MARK: - Inference

    /// Images per second classifying the whole test set in batches of 1,000 (gather, forward,
    /// argmax), the best of `repeats` passes.
    static func inferenceRate(_ model: Sequential, _ test: Dataset, repeats: Int) -> Double {
        let x = Tensor(shape: [1000, 784])
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 1000)
        let indices = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { labels.deallocate(); indices.deallocate() }
        var best = Double.infinity, checksum = 0
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            var s = 0
            while s < test.count {
                let n = min(1000, test.count - s)
                for i in 0..<n { indices[i] = s + i }
                test.gather(UnsafeBufferPointer(start: indices, count: n), transform: .unit, into: x, labels: labels)
                let out = model.forward(x, training: false)
                for i in 0..<n { checksum &+= argmax(out.data + i * out.columns, out.columns) }
                s += n
            }
            best = min(best, start.elapsedSeconds)
        }
        if checksum == -1 { print("") }
        return Double(test.count) / best
    }

    /// Microseconds to classify one image (gather, forward, argmax), the median of many.
    static func latency(_ model: Sequential, _ test: Dataset) -> Double {
        let x = Tensor(shape: [1, 784])
        var label: Int32 = 0
        var index = 0
        var times: [Double] = []
        var checksum = 0
        for i in 0..<2000 {
            index = i % test.count
            let start = ContinuousClock.now
            withUnsafePointer(to: &index) { p in
                test.gather(UnsafeBufferPointer(start: p, count: 1), transform: .unit, into: x, labels: &label)
            }
            let out = model.forward(x, training: false)
            checksum &+= argmax(out.data, out.columns)
            times.append(start.elapsedSeconds * 1e6)
        }
        if checksum == -1 { print("") }
        times.sort()
        return times[times.count / 2]
    }
}

// MARK: - GEMM shapes

/// One product timed by the benchmark.
public struct GEMMShape: Sendable, Codable {
    public var name: String
    public var transA: Bool, transB: Bool
    public var m: Int, n: Int, k: Int
    public var beta: Float
    /// Results: GFLOP/s on one thread and on two, and one thread's share of the FMA peak.
    public var gflops = 0.0, gflopsTwoThreads = 0.0, percentOfPeak = 0.0
    /// GFLOP/s of OpenBLAS on the same product, in builds with the OpenBLAS trait.
    public var gflopsOpenBLAS: Double?

    /// The products a 784-256-128-10 network's first two layers do at batch 64 and 256:
    /// forward X·W, the weight gradient Xᵀ·dZ (accumulated, beta 1), the input gradient dZ·Wᵀ.
    public static let training: [GEMMShape] = [64, 256].flatMap { b in
        [
            GEMMShape(name: "X·W \(b)×784·784×256", transA: false, transB: false, m: b, n: 256, k: 784, beta: 0),
            GEMMShape(name: "Xᵀ·dZ 784×\(b)·\(b)×256", transA: true, transB: false, m: 784, n: 256, k: b, beta: 1),
            GEMMShape(name: "dZ·Wᵀ \(b)×256·256×784", transA: false, transB: true, m: b, n: 784, k: 256, beta: 0),
            GEMMShape(name: "H·W \(b)×256·256×128", transA: false, transB: false, m: b, n: 128, k: 256, beta: 0),
            GEMMShape(name: "dZ·Wᵀ \(b)×128·128×256", transA: false, transB: true, m: b, n: 256, k: 128, beta: 0),
        ]
    }

    /// GFLOP/s of `kernel` on this shape with dense random operands: the best of `10 · repeats`
    /// timings of enough calls to take about 2 ms (short samples, so that few are interrupted
    /// by other programs).
    public func measure(kernel: any GEMMKernel, repeats: Int) -> Double {
        var rng = RandomSource(seed: 7)
        // Tensors, as in training: 64-byte aligned buffers.
        let a = Tensor(shape: [m * k]), b = Tensor(shape: [k * n]), c = Tensor(shape: [m * n])
        for i in 0..<a.count { a.data[i] = rng.uniform(-1, 1) }
        for i in 0..<b.count { b.data[i] = rng.uniform(-1, 1) }
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let calls = max(1, Int(1e8 / flops))
        var best = Double.infinity
        let p = GEMMProblem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                            a: a.data, lda: transA ? m : k, b: b.data, ldb: transB ? k : n,
                            beta: beta, c: c.data, ldc: n, epilogue: .none)
        kernel.run(p)   // warm up: workspaces, caches, threads
        for _ in 0..<(10 * repeats) {
            let start = ContinuousClock.now
            for _ in 0..<calls { kernel.run(p) }
            best = min(best, start.elapsedSeconds / Double(calls))
        }
        return flops / best / 1e9
    }
}

// MARK: - Results

/// Seconds of one training epoch at one batch size.
public struct EpochTiming: Sendable, Codable {
    public var name: String
    public var batch: Int
    public var seconds: Double
    public var testAccuracy: Double
}

/// Seconds of a whole preset's training.
public struct PresetTiming: Sendable, Codable {
    public var name: String
    public var seconds: Double
    public var testAccuracy: Double
}

/// Everything `digits bench` measured.
public struct BenchReport: Sendable, Codable {
    public var machine: String
    public var kernel: String
    public var fmaPeak = 0.0
    public var fmaPeakTwoThreads = 0.0
    /// The vector width, in Float lanes, the peak was measured at: the widest the matrix
    /// multiply uses (16 with the AVX-512 tiles, else 8).
    public var fmaLanes = 8
    public var gemm: [GEMMShape] = []
    public var epochs: [EpochTiming] = []
    public var presets: [PresetTiming] = []
    /// Each convolution of the `fast` and `pytorch-cnn` networks, forward and backward.
    public var convLayers: [ConvLayerTiming] = []
    /// All of them together: GFLOP/s, and the share of the FMA peak of the threads used.
    public var convGFLOPS = 0.0, convPercentOfPeak = 0.0
    /// Convolutional presets: one epoch of `pytorch-cnn`, and `fast` trained to the end.
    public var cnnPresets: [PresetTiming] = []
    public var inferenceImagesPerSecond = 0.0
    public var latencyMicroseconds = 0.0
    /// The process's peak resident memory after the batch-64 training run (or the training
    /// that ran), in MB; nil when no training ran.
    public var peakResidentMB: Double?

    public init(machine: String, kernel: String) {
        self.machine = machine
        self.kernel = kernel
    }

    /// The report as an aligned text table.
    public var table: String {
        var lines: [String] = []
        lines.append("machine         \(machine)")
        lines.append("kernel          \(kernel) (used for training and inference below)")
        if fmaPeak > 0 {
            lines.append("FMA peak        \(fixed(fmaPeak, 1)) GFLOP/s one thread, \(fixed(fmaPeakTwoThreads, 1)) two threads"
                         + " (\(fmaLanes)-lane vectors, as the multiply uses)")
        }
        if !gemm.isEmpty {
        lines.append("")
        let blas = gemm.contains { $0.gflopsOpenBLAS != nil }
        lines.append(pad("GEMM (dense random operands)", 34) + pad("GFLOP/s", 9, right: true) + pad("% peak", 8, right: true)
                     + pad("2 threads", 11, right: true) + (blas ? pad("OpenBLAS", 10, right: true) : ""))
        for g in gemm {
            lines.append(pad(g.name, 34) + pad(fixed(g.gflops, 1), 9, right: true) + pad(fixed(g.percentOfPeak, 0) + "%", 8, right: true)
                         + pad(fixed(g.gflopsTwoThreads, 1), 11, right: true)
                         + (blas ? pad(fixed(g.gflopsOpenBLAS ?? .nan, 1), 10, right: true) : ""))
        }
        }
        if !epochs.isEmpty || !presets.isEmpty {
        lines.append("")
        lines.append(pad("Training (MNIST, 60,000 images)", 44) + pad("seconds", 9, right: true) + pad("test acc", 10, right: true))
        for e in epochs {
            lines.append(pad("\(e.name) epoch, batch \(e.batch)", 44) + pad(fixed(e.seconds, 3), 9, right: true)
                         + pad(fixed(100 * e.testAccuracy, 2) + "%", 10, right: true))
        }
        for p in presets {
            lines.append(pad("preset \(p.name)", 44) + pad(fixed(p.seconds, 3), 9, right: true)
                         + pad(fixed(100 * p.testAccuracy, 2) + "%", 10, right: true))
        }
        }
        if !convLayers.isEmpty {
            lines.append("")
            lines.append(pad("Convolutions (one batch)", 50) + pad("fwd ms", 8, right: true) + pad("bwd ms", 8, right: true)
                         + pad("GFLOP/s", 9, right: true))
            for c in convLayers {
                lines.append(pad("\(c.name), batch \(c.batch)", 50) + pad(fixed(c.forwardMs, 2), 8, right: true)
                             + pad(fixed(c.backwardMs, 2), 8, right: true) + pad(fixed(c.gflops, 1), 9, right: true))
            }
            lines.append(pad("all convolutions", 66) + pad(fixed(convGFLOPS, 1), 9, right: true)
                         + "  (\(fixed(convPercentOfPeak, 0))% of the peak of the threads used)")
        }
        if !cnnPresets.isEmpty {
            lines.append("")
            lines.append(pad("Convolutional presets (MNIST)", 44) + pad("seconds", 9, right: true) + pad("test acc", 10, right: true))
            for p in cnnPresets {
                lines.append(pad(p.name, 44) + pad(fixed(p.seconds, 3), 9, right: true)
                             + pad(fixed(100 * p.testAccuracy, 2) + "%", 10, right: true))
            }
        }
        lines.append("")
        if inferenceImagesPerSecond > 0 {
            lines.append("inference       \(Int(inferenceImagesPerSecond.rounded())) images/s (10,000 test images, batches of 1,000)")
            lines.append("latency         \(fixed(latencyMicroseconds, 1)) µs for one image")
        }
        if let peakResidentMB {
            lines.append("peak memory     \(fixed(peakResidentMB, 1)) MB resident (after MNIST load and training)")
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The report as one line of JSON.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

// MARK: - The machine

/// What the machine is, and how much memory the process has used.
public enum BenchMachine {
    /// "AMD EPYC, 2 logical CPUs" from /proc/cpuinfo where there is one.
    public static func describe() -> String {
        var model = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) logical CPUs"
    }

    /// The peak resident set size of this process so far (getrusage), in MB.
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576   // bytes on macOS
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)   // a C enum on Glibc
        return Double(usage.ru_maxrss) / 1024        // kilobytes on Linux
        #endif
    }
}

// MARK: - Helpers

func fixed(_ x: Double, _ digits: Int) -> String {
    x.isFinite ? String(format: "%.\(digits)f", x) : "-"
}

private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let n = s.count
    guard n < width else { return s + " " }
    let fill = String(repeating: " ", count: width - n)
    return right ? fill + s : s + fill
}
