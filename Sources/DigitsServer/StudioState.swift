import DigitsApp
import DigitsCore
import DigitsData
import Foundation

/// Everything the studio serves from: the model in use and the saved ones, MNIST, the
/// person's examples, the training run. Shared by every request; a lock guards it, and a
/// model is used by one request at a time (its layers own their output buffers).
public final class StudioState: @unchecked Sendable {
    /// The data directory: `models/` (saved models) and `examples/` (the person's digits).
    public let dataDirectory: URL
    public var modelsDirectory: URL { dataDirectory.appendingPathComponent("models") }
    public let examples: ExampleStore
    /// MNIST as 784-byte samples.
    let mnist: (train: Dataset, test: Dataset)
    let events = EventHub()
    /// Pictures prepared at once: one per CPU (it is CPU work, and memory grows with the picture).
    let readingGate = Gate(limit: ProcessInfo.processInfo.activeProcessorCount)

    private let lock = NSLock()
    private var currentName: String
    private var current: TrainedModel
    /// `current` as `POST /api/predict` reads with it: the reading choice applied once, when the
    /// model is installed (the same network; only the test-time views in its metadata may differ).
    private var currentReading: TrainedModel
    /// Every model that can be chosen: name → file.
    private var known: [String: String]
    private var job: (name: String, kind: String, stop: StopFlag)?
    /// The model file given at launch (resolved): never deleted, wherever it is.
    private let launchFile: String
    private var testEvaluation: (name: String, predictions: [Int32])?

    /// How `POST /api/predict` reads with the model in use: as its file says, or as `--tta`,
    /// `--no-tta`, `--tta-views` chose.
    let reading: ReadingChoice

    /// A state serving `model` (read from `modelPath`, named after its file), reading as `reading` says.
    public init(dataDirectory: URL, model: TrainedModel, modelPath: String, mnist: (train: Dataset, test: Dataset),
                reading: ReadingChoice = ReadingChoice()) throws(AppError) {
        self.dataDirectory = dataDirectory
        self.reading = reading
        self.mnist = mnist
        do {
            try FileManager.default.createDirectory(at: dataDirectory.appendingPathComponent("models"), withIntermediateDirectories: true)
            examples = try ExampleStore(directory: dataDirectory.appendingPathComponent("examples"))
        } catch let e as AppStoreError { throw AppError(e.description) } catch { throw AppError("cannot create \(dataDirectory.path): \(error)") }
        try Self.checkShape(model, name: modelPath)
        launchFile = Self.resolved(modelPath)
        let name = Self.stem(modelPath)
        currentName = Names.isValid(name) ? name : "model"
        current = model
        currentReading = Self.reading(model, as: reading)
        known = [:]
        rescanModels()
        known[currentName] = modelPath
    }

    /// Loads MNIST (the bundled copy) as 784-byte samples.
    public static func loadMNIST() throws(AppError) -> (train: Dataset, test: Dataset) {
        try DataSource.bundled.load(sampleShape: [784])
    }

    static func stem(_ path: String) -> String {
        let file = URL(fileURLWithPath: path).lastPathComponent
        return file.hasSuffix(".safetensors") ? String(file.dropLast(".safetensors".count)) : file
    }

    /// The studio reads 28×28 digits into 10 classes: other models are refused.
    static func checkShape(_ model: TrainedModel, name: String) throws(AppError) {
        guard model.model.inputShape.reduce(1, *) == 784 else {
            throw AppError("\(name) takes inputs of shape \(model.model.inputShape), not a 28×28 image")
        }
        guard model.model.outputShape.reduce(1, *) == 10 else {
            throw AppError("\(name) has \(model.model.outputShape.reduce(1, *)) outputs, not 10 digits")
        }
    }

    // MARK: - Models

    /// Adds the models saved in the data directory since the last look, and drops those whose file
    /// has gone (the model in use stays: it is in memory).
    private func rescanModels() {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        for f in files where f.hasSuffix(".safetensors") {
            let name = Self.stem(f)
            if Names.isValid(name) { known[name] = modelsDirectory.appendingPathComponent(f).path }
        }
        for (name, path) in known where name != currentName && isInDataDirectory(path) && !FileManager.default.fileExists(atPath: path) {
            known[name] = nil
        }
    }

    /// Whether `path` is a model file of the data directory.
    private func isInDataDirectory(_ path: String) -> Bool {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path == modelsDirectory.standardizedFileURL.path
    }

    /// `path` absolute, with `.`, `..` and symbolic links resolved.
    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Deletes the model called `name`: its file in the data directory. The model in use, the
    /// model a training job is writing and the file given at launch are refused (409).
    func delete(_ name: String) throws(APIError) {
        _ = try Names.checked(name, what: "the model name")
        lock.lock(); defer { lock.unlock() }
        rescanModels()
        guard let path = known[name] else { throw .notFound("no model named '\(name)'") }
        guard name != currentName else { throw .conflict("'\(name)' is the model in use: choose another one before deleting it") }
        if let job, job.name == name { throw .conflict("\(job.kind) '\(name)' is running: stop it first or wait for it to finish") }
        guard isInDataDirectory(path), Self.resolved(path) != launchFile else {
            throw .conflict("'\(name)' is the file given at launch (\(path)), not a model of the studio's data directory: it is not deleted")
        }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw APIError(.internalServerError, "cannot delete \(path): \(error.localizedDescription)")
        }
        known[name] = nil
    }

    /// Whether the model called `name` could be deleted now (the page shows a button for it).
    private func isDeletable(_ name: String, path: String) -> Bool {
        name != currentName && job?.name != name && isInDataDirectory(path) && Self.resolved(path) != launchFile
    }

    /// The name of the model in use.
    public var modelName: String { lock.withLock { currentName } }

    /// `model` with the reading choice applied.
    private static func reading(_ model: TrainedModel, as choice: ReadingChoice) -> TrainedModel {
        var reads = model
        choice.apply(to: &reads)
        return reads
    }

    /// Runs `body` with the model in use as `POST /api/predict` reads with it (the reading
    /// choice applied), alone.
    func withReadingModel<T>(_ body: (String, TrainedModel) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(currentName, currentReading)
    }

    /// Runs `body` with the model in use, alone.
    func withModel<T>(_ body: (String, TrainedModel) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(currentName, current)
    }

    /// Every model that can be chosen, sorted by name.
    func modelList() -> [ModelInfo] {
        lock.withLock {
            rescanModels()
            return known.keys.sorted().map { name in
                let path = known[name] ?? ""
                return ModelInfo(name: name, current: name == currentName, file: path, deletable: isDeletable(name, path: path))
            }
        }
    }

    /// Switches to the model called `name`.
    func select(_ name: String) throws(APIError) {
        _ = try Names.checked(name, what: "the model name")
        let path: String? = lock.withLock { rescanModels(); return known[name] }
        guard let path else { throw .notFound("no model named '\(name)'") }
        let model: TrainedModel
        do {
            model = try TrainedModel.load(from: path)
            try Self.checkShape(model, name: path)
        } catch { throw APIError(.unprocessableContent, error.description) }
        install(model, name: name, path: path)
    }

    /// Makes `model` (saved at `path`) the model in use.
    func install(_ model: TrainedModel, name: String, path: String) {
        let reads = Self.reading(model, as: reading)
        lock.withLock {
            known[name] = path
            currentName = name
            current = model
            currentReading = reads
            testEvaluation = nil
        }
    }

    /// A fresh copy of the model in use, read from its file (for fine-tuning).
    func copyOfCurrentModel() throws(AppError) -> (name: String, model: TrainedModel) {
        let (name, path) = lock.withLock { (currentName, known[currentName] ?? "") }
        return (name, try TrainedModel.load(from: path))
    }

    /// A name not yet taken, from `base`, `base-2`, `base-3`, …
    func freeName(_ base: String) -> String {
        lock.withLock {
            rescanModels()
            if known[base] == nil { return base }
            var i = 2
            while known["\(base)-\(i)"] != nil { i += 1 }
            return "\(base)-\(i)"
        }
    }

    /// Whether a model of that name exists.
    func exists(_ name: String) -> Bool { lock.withLock { rescanModels(); return known[name] != nil } }

    // MARK: - Training jobs (one at a time)

    /// Claims the training slot, or throws 409 naming what runs.
    func beginJob(name: String, kind: String) throws(APIError) -> StopFlag {
        lock.lock(); defer { lock.unlock() }
        if let job { throw .conflict("\(job.kind) '\(job.name)' is running: stop it first or wait for it to finish") }
        let flag = StopFlag()
        job = (name, kind, flag)
        return flag
    }

    func endJob() { lock.withLock { job = nil } }

    /// The running job, if any.
    var runningJob: (name: String, kind: String)? { lock.withLock { job.map { ($0.name, $0.kind) } } }

    /// Asks the running job to stop; false when none runs.
    func stopJob() -> Bool {
        lock.withLock {
            guard let job else { return false }
            job.stop.stop()
            return true
        }
    }

    /// Ends every training-event stream (at shutdown).
    public func finishEventStreams() { events.finishAll() }

    // MARK: - The test set

    /// The model's predictions for every test image (computed once per model).
    func testPredictions() -> (name: String, predictions: [Int32], labels: [Int32]) {
        lock.lock(); defer { lock.unlock() }
        if let e = testEvaluation, e.name == currentName { return (e.name, e.predictions, mnist.test.labels) }
        var test = mnist.test
        test.sampleShape = current.model.inputShape
        let evaluation = currentReading.evaluate(on: test)   // as POST /api/predict reads (with its views, if any)
        testEvaluation = (currentName, evaluation.predictions)
        return (currentName, evaluation.predictions, mnist.test.labels)
    }

    /// Test image `i`'s pixels.
    func testImage(_ i: Int) -> [UInt8] { Array(mnist.test.features[(i * 784)..<((i + 1) * 784)]) }
}

/// A model that can be chosen.
struct ModelInfo: Codable {
    var name: String
    var current: Bool
    var file: String
    /// Whether `POST /api/models/delete` would delete it now.
    var deletable: Bool
}
