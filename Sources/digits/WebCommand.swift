import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsData
import DigitsModelFile
import Foundation

/// `digits web --out DIR`: writes a static studio that runs Digits' own core in the browser
/// (Wasm/digits.wasm): the page of `digits serve` (Sources/DigitsServer/Resources/site), marked
/// static, so that it answers itself (local.js) what the server would: draw and read, see the
/// layers, train the MLP or a small CNN, teach it your examples (kept in the browser), the test
/// set, with no server behind it. Serve DIR with any static server (`python3 -m http.server`).
struct Web: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a static web studio that reads and trains in the browser (WebAssembly), no server needed.",
        discussion: """
            DIR gets the studio's page (index.html, assets/), the module (assets/digits.wasm) and its JavaScript, \
            the model (--model, else model.safetensors here, else the shipped reader), the presets the page can \
            train, MNIST, and reference.json: this machine's readings of the first test digits, which \
            the page (and Tests/wasm) compare with the module's. Serve it with `cd DIR && python3 -m http.server`.
            """)

    @Option(help: ArgumentHelp("Where to write the site.", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("The model to put in the site (default: model.safetensors here, else the shipped reader).", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("The folder holding digits.wasm, digits.js and digits-worker.js (default: the repository's Wasm/).", valueName: "dir"))
    var assets: String?

    /// The studio's page, as `digits serve` serves it (from the source tree, as a fresh clone has it).
    static var pageDirectory: URL {
        repositoryWasmDirectory.deletingLastPathComponent().appendingPathComponent("Sources/DigitsServer/Resources/site")
    }

    /// The page's files: the HTML, then what goes in assets/.
    static let pageFiles = ["studio.css", "studio.js", "local.js", "favicon.svg"]

    @Option(name: .customLong("reference-count"), help: ArgumentHelp("How many test digits reference.json reads natively.", valueName: "n"))
    var referenceCount: Int = 1000

    /// The presets the page offers to train: the ones whose layers all run in the module.
    static let trainable = ["mlp", "fast"]

    func validate() throws {
        guard (0...10_000).contains(referenceCount) else { throw ValidationError("--reference-count must be 0-10000") }
    }

    func run() throws {
        do throws(AppError) {
            try write()
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }

    private func write() throws(AppError) {
        let assetsDir = URL(fileURLWithPath: assets ?? Web.repositoryWasmDirectory.path)
        let moduleFiles = ["digits.wasm", "digits.js", "digits-worker.js"]
        for f in moduleFiles where !FileManager.default.fileExists(atPath: assetsDir.appendingPathComponent(f).path) {
            throw AppError("\(assetsDir.path) has no \(f): give --assets DIR (the repository's Wasm folder; build the module with scripts/build-wasm.sh)")
        }
        let page = Web.pageDirectory
        for f in ["index.html"] + Web.pageFiles where !FileManager.default.fileExists(atPath: page.appendingPathComponent(f).path) {
            throw AppError("\(page.path) has no \(f): run digits web from a build of the repository's sources")
        }
        let outDir = URL(fileURLWithPath: out)
        let mnistDir = outDir.appendingPathComponent("mnist"), assetsOut = outDir.appendingPathComponent("assets")
        for dir in [mnistDir, assetsOut] {
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw AppError("cannot create \(dir.path): \(error.localizedDescription)")
            }
        }

        // The studio's page, marked static (it then answers itself what the server would), and
        // the module with its glue beside the page's scripts.
        let html: String
        do { html = try String(contentsOf: page.appendingPathComponent("index.html"), encoding: .utf8) } catch {
            throw AppError("cannot read \(page.path)/index.html")
        }
        guard html.contains("<html lang=\"en\">") else { throw AppError("\(page.path)/index.html has no <html lang=\"en\"> to mark static") }
        try write(Data(html.replacingOccurrences(of: "<html lang=\"en\">", with: "<html lang=\"en\" data-mode=\"static\">").utf8),
                  to: outDir.appendingPathComponent("index.html"))
        for f in Web.pageFiles {
            try copy(page.appendingPathComponent(f), to: assetsOut.appendingPathComponent(f))
        }
        for f in moduleFiles {
            try copy(assetsDir.appendingPathComponent(f), to: assetsOut.appendingPathComponent(f))
        }

        // MNIST, as bundled (the page decompresses it with the browser's DecompressionStream).
        let mnist: URL
        do { mnist = try MNIST.bundledDirectory } catch { throw AppError(error.description) }
        for f in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try copy(mnist.appendingPathComponent(f), to: mnistDir.appendingPathComponent(f))
        }

        // The model.
        let modelPath = outDir.appendingPathComponent("model.safetensors").path
        let trained: TrainedModel
        let (source, note) = ShippedReader.resolve(given: model)
        let modelName: String
        if FileManager.default.fileExists(atPath: source) || model != nil {
            if let note { Console.out(note) }
            trained = try TrainedModel.load(from: source)
            try copy(URL(fileURLWithPath: source), to: URL(fileURLWithPath: modelPath))
            modelName = source
        } else {
            Console.out("No --model, no \(TrainedModel.defaultPath) here and no shipped reader in this build: training the `fast` preset once (about 10 s).")
            trained = try Web.trainFast()
            try trained.save(to: modelPath)
            modelName = "fast, trained now"
        }

        // Native readings of the first test digits, for the page and the tests to compare with.
        let test = try DataSource.bundled.load(sampleShape: trained.model.inputShape).test
        try writeJSON(reference(trained, test), to: outDir.appendingPathComponent("reference.json"))

        // The presets the page can train.
        try writeJSON(["presets": try Web.trainable.map { name throws(AppError) in try Web.presetJSON(name) }],
                      to: outDir.appendingPathComponent("presets.json"))

        Console.out("Wrote the studio to \(outDir.path) (model \(modelName)).")
        Console.out("Serve it with: cd \(out) && python3 -m http.server 8000   (then open http://localhost:8000)")
    }

    // MARK: - Parts

    /// The repository's Wasm folder, found from this source file's place (the site's assets
    /// are read from the source tree, as a fresh clone has them).
    static var repositoryWasmDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Wasm")
    }

    /// The `fast` preset, trained on the bundled MNIST.
    static func trainFast() throws(AppError) -> TrainedModel {
        guard let preset = Presets.named("fast") else { throw AppError("the fast preset is missing") }
        let recipe = preset.recipe
        let sets = try DataSource.bundled.load(sampleShape: recipe.inputShape)
        do {
            let model = try recipe.makeModel()
            let trainer = try Trainer(model: model, loss: recipe.loss.make(), plan: recipe.plan,
                                      transform: recipe.inputTransform, rng: recipe.trainingRandomSource)
            try trainer.train(on: sets.train)
            let accuracy = TrainedModel(model: model, inputTransform: recipe.inputTransform, loss: recipe.loss).evaluate(on: sets.test).accuracy
            return TrainedModel(model: model, inputTransform: recipe.inputTransform, loss: recipe.loss,
                                metadata: ["preset": "fast", "seed": String(recipe.seed), "test_accuracy": String(format: "%.4f", accuracy)])
        } catch {
            throw AppError("\(error)")
        }
    }

    /// `{ count, seconds, labels, probabilities }`: this machine's reading of the first test
    /// digits (as `digits predict --index I`), and the seconds they took one at a time.
    private func reference(_ trained: TrainedModel, _ test: Dataset) -> [String: Any] {
        let n = min(referenceCount, test.count), s = test.sampleSize
        var probabilities: [[Double]] = []
        let start = ContinuousClock.now
        for i in 0..<n {
            probabilities.append(trained.probabilities(for: Array(test.features[(i * s)..<((i + 1) * s)])).map { Double($0) })
        }
        let seconds = start.elapsedSeconds
        return ["count": n, "seconds": seconds, "labels": test.labels.prefix(n).map { Int($0) }, "probabilities": probabilities]
    }

    /// A preset as the page trains it: the architecture as model files keep it, the initialiser,
    /// the seed, the loss and the plan (fields named as Wasm/digits.js's `Trainer` reads them).
    static func presetJSON(_ name: String) throws(AppError) -> [String: Any] {
        guard let preset = Presets.named(name) else { throw AppError("no preset \(name)") }
        let recipe = preset.recipe
        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw AppError(error.description) }
        // The architecture exactly as a model file writes it.
        let architecture = Architecture(inputShape: model.inputShape, inputTransform: recipe.inputTransform,
                                        layers: model.specs).json
        let initializer: Initializer
        switch recipe.network {
        case .mlp(let m): initializer = m.initializer
        case .layers(_, _, let i, _): initializer = i
        }
        let plan = recipe.plan
        var json: [String: Any] = [
            "name": name, "summary": preset.summary, "architecture": architecture,
            "initializer": initializerJSON(initializer), "seed": Int(recipe.seed), "loss": recipe.loss.rawValue,
            "batchSize": plan.batchSize, "batching": plan.batching.rawValue, "learningRate": Double(plan.learningRate),
            "l2": Double(plan.l2), "reduction": plan.reduction.rawValue,
            "optimizer": optimizerJSON(plan.optimizer), "schedule": scheduleJSON(plan.schedule),
        ]
        switch plan.length {
        case .epochs(let e): json["epochs"] = e
        case .steps(let s, _): json["steps"] = s
        }
        return json
    }

    static func initializerJSON(_ i: Initializer) -> [String: Any] {
        switch i {
        case .he: ["he": [String: Any]()]
        case .xavier: ["xavier": [String: Any]()]
        case .lecunUniform: ["lecunUniform": [String: Any]()]
        case let .uniform(low, high): ["uniform": ["low": Double(low), "high": Double(high)]]
        case .normal(let std): ["normal": ["std": Double(std)]]
        case .zeros: ["zeros": [String: Any]()]
        }
    }

    static func optimizerJSON(_ o: OptimizerKind) -> [String: Any] {
        switch o {
        case .sgd: ["kind": "sgd"]
        case let .momentum(m, nesterov): ["kind": "momentum", "momentum": Double(m), "nesterov": nesterov]
        case let .adam(b1, b2, e): ["kind": "adam", "beta1": Double(b1), "beta2": Double(b2), "epsilon": Double(e)]
        case let .adamW(b1, b2, e, wd): ["kind": "adamw", "beta1": Double(b1), "beta2": Double(b2), "epsilon": Double(e), "weightDecay": Double(wd)]
        }
    }

    static func scheduleJSON(_ s: LearningRateSchedule) -> [String: Any] {
        switch s {
        case .constant: ["kind": "constant"]
        case let .step(every, gamma): ["kind": "step", "every": every, "gamma": Double(gamma)]
        case .cosine(let m): ["kind": "cosine", "minFactor": Double(m)]
        case let .oneCycle(w, d, f): ["kind": "one-cycle", "warmup": Double(w), "divFactor": Double(d), "finalDivFactor": Double(f)]
        }
    }

    // MARK: - Files

    private func copy(_ from: URL, to: URL) throws(AppError) {
        let data: Data
        do { data = try Data(contentsOf: from) } catch { throw AppError("cannot read \(from.path)") }
        try write(data, to: to)
    }

    private func writeJSON(_ object: Any, to url: URL) throws(AppError) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            throw AppError("cannot encode \(url.lastPathComponent)")
        }
        try write(data, to: url)
    }

    /// Atomically: a temporary file beside the target, then a rename.
    private func write(_ data: Data, to url: URL) throws(AppError) {
        do { try data.write(to: url, options: .atomic) } catch { throw AppError("cannot write \(url.path): \(error.localizedDescription)") }
    }
}
