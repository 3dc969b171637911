import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsModelFile
import Foundation

/// `digits train`: trains a preset (flags override its values), reports every epoch, saves the model.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network and save it.",
        discussion: "Flags override the preset's values; `digits presets` lists the presets and their settings.")

    // MARK: - What to train
    // Numbers are parsed `.unconditional`ly, so that `--lr -1` is read as minus one and
    // refused for what it is, rather than as a missing value.

    @Option(help: ArgumentHelp("The recipe to start from (see `digits presets`).", valueName: "name"))
    var preset: String = Presets.mlp.name

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden layer sizes of a fully connected network, such as 256,128 (\"none\" for no hidden layer).", valueName: "sizes"))
    var layers: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden activation: sigmoid, tanh, relu, leaky-relu[:alpha].", valueName: "name"))
    var activation: ActivationArgument?

    @Option(help: ArgumentHelp("What the last layer outputs: logits (for ce), sigmoid, softmax, softmax-diagonal.", valueName: "kind"))
    var output: OutputKind?

    @Option(help: ArgumentHelp("Loss: ce (softmax cross-entropy), mse (squared error), bce (binary cross-entropy).", valueName: "name"))
    var loss: LossKind?

    @Option(name: .customLong("init"), parsing: .unconditional, help: ArgumentHelp("Weight initialisation: he, xavier, lecun-uniform, uniform:LOW:HIGH, normal:STD, zeros.", valueName: "name"))
    var initializer: InitializerArgument?

    // MARK: - How to train

    @Option(help: ArgumentHelp("Optimiser: sgd, momentum, nesterov, adam, adamw.", valueName: "name"))
    var optimizer: RecipeOverrides.OptimizerChoice?

    @Option(parsing: .unconditional, help: ArgumentHelp("Momentum for the momentum and nesterov optimisers.", valueName: "m"))
    var momentum: Float = 0.9

    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: ArgumentHelp("Decoupled weight decay for adamw.", valueName: "x"))
    var weightDecay: Float = 0.01

    @Option(parsing: .unconditional, help: ArgumentHelp("Learning rate.", valueName: "x"))
    var lr: Float?

    @Option(help: ArgumentHelp("Learning-rate schedule: constant, step, cosine, one-cycle.", valueName: "name"))
    var schedule: RecipeOverrides.ScheduleChoice?

    @Option(name: .customLong("step-every"), parsing: .unconditional, help: ArgumentHelp("With --schedule step: epochs between decays.", valueName: "n"))
    var stepEvery: Int = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("With --schedule step: the factor applied at each decay.", valueName: "x"))
    var gamma: Float = 0.5

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: ArgumentHelp("Samples per step: 1 is online SGD; 60000 is full-batch gradient descent.", valueName: "n"))
    var batchSize: Int?

    @Option(help: ArgumentHelp("How batches are drawn: shuffled, in-order, with-replacement.", valueName: "rule"))
    var batching: Batching?

    @Option(help: ArgumentHelp("Whether a batch's gradient is the mean or the sum of its samples'.", valueName: "mean|sum"))
    var reduction: Reduction?

    @Option(parsing: .unconditional, help: ArgumentHelp("Passes over the training set.", valueName: "n"))
    var epochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Train for this many steps instead of whole epochs.", valueName: "n"))
    var steps: Int?

    @Option(name: .customLong("report-every"), parsing: .unconditional, help: ArgumentHelp("With --steps: steps between reports.", valueName: "n"))
    var reportEvery: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("L2 regularisation strength (on weights).", valueName: "x"))
    var l2: Float?

    @Option(parsing: .unconditional, help: ArgumentHelp("Random seed: the same seed gives the same weights.", valueName: "n"))
    var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Hold out the last N training images as a validation set, reported beside the test set.", valueName: "n"))
    var validation: Int?

    @Option(help: ArgumentHelp("End with an average of the last weights: ema:DECAY[:EPOCHS] (exponential moving average, e.g. ema:0.999:3), swa[:EPOCHS] (their plain mean), or none.", valueName: "rule"))
    var average: String?

    @Option(help: ArgumentHelp("Train the last epochs on a lighter augmentation: EPOCHS[:light] (shift ±2 px, rotation ±10°, scale ±10%), EPOCHS:none (no augmentation), or none.", valueName: "rule"))
    var anneal: String?

    @Option(help: ArgumentHelp("Change the preset's augmentation: none, or NAME=VALUE,… with VALUE a number or off (e.g. elastic=off,noise=off). Names: shift (px), rotation (degrees), scale, shear, aspect, elastic (px), elastic-grid, thickness, blur (chance), low-res (chance), contrast (faintest ink, 1 = off), noise (grey levels). Annealed epochs keep their own augmentation.", valueName: "spec"))
    var augment: String?

    // MARK: - Data and output

    @OptionGroup(title: "Data")
    var data: DataOptions

    @Option(help: ArgumentHelp("Your own labelled digits, added to the training set: a CSV file (label, then 784 pixels; what the static studio exports) or an examples directory of `digits serve`.", valueName: "path"))
    var extra: String?

    @Option(help: ArgumentHelp("Where to save the trained model.", valueName: "path"))
    var save: String = TrainedModel.defaultPath

    @Option(help: ArgumentHelp("Draw the loss and accuracy curves, train against test, into this PNG (or SVG, by its extension).", valueName: "path"))
    var plot: String?

    // MARK: - Checkpoints

    @Option(help: ArgumentHelp("Write a checkpoint (everything needed to continue) to this file, atomically, every --checkpoint-every steps and on Ctrl-C or SIGTERM.", valueName: "path"))
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: ArgumentHelp("With --checkpoint: steps between checkpoints (default: every epoch, or every report with --steps).", valueName: "n"))
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Continue the training saved in this checkpoint: it holds the recipe, the data and the flags, so only --json and --no-progress may be given with it.", valueName: "path"))
    var resume: String?

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @Flag(name: .customLong("no-progress"), help: "No progress bar, only a line per epoch.")
    var noProgress = false

    // MARK: - Validation (in the library: RecipeOverrides)

    func validate() throws {
        if resume != nil {
            let others = Self.givenArguments.filter { !$0.hasPrefix("--resume") && !["--json", "--no-progress"].contains($0) }
            // The only value that may follow is --resume's own.
            guard others.count <= 1, others.isEmpty || Self.givenArguments.contains("--resume") else {
                throw ValidationError("--resume takes the recipe, the data and the flags from the checkpoint: only --json and --no-progress may be given with it")
            }
            return
        }
        if let checkpointEvery, checkpointEvery < 1 {
            throw ValidationError("--checkpoint-every must be at least 1 (steps between checkpoints)")
        }
        if checkpointEvery != nil && checkpoint == nil {
            throw ValidationError("--checkpoint-every needs --checkpoint PATH (where to write them)")
        }
        if let checkpoint {
            guard checkpoint != save else { throw ValidationError("--checkpoint and --save name the same file, \(save)") }
            var isDirectory: ObjCBool = false
            if checkpoint.hasSuffix("/") || (FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDirectory) && isDirectory.boolValue) {
                throw ValidationError("--checkpoint \(checkpoint): names a directory; give a file name such as run.ckpt")
            }
            if let type = (try? FileManager.default.attributesOfItem(atPath: checkpoint))?[.type] as? FileAttributeType,
               type != .typeRegular && type != .typeSymbolicLink {
                throw ValidationError("--checkpoint \(checkpoint): is not a regular file (a device, FIFO or socket); not replacing it")
            }
        }
        if let plot { try checkExtension(plot, option: "--plot", ["png", "svg"]) }
        var isDirectory: ObjCBool = false
        if save.hasSuffix("/") || (FileManager.default.fileExists(atPath: save, isDirectory: &isDirectory) && isDirectory.boolValue) {
            let dir = Format.directory(save)
            throw ValidationError("--save \(save): names a directory; give a file name such as \(dir == "/" ? "" : dir)/model.safetensors")
        }
        // A device, a FIFO or a socket is not replaced by a model file (a symbolic link is the
        // model file's own business: it writes through to the target or refuses).
        if let type = (try? FileManager.default.attributesOfItem(atPath: save))?[.type] as? FileAttributeType,
           type != .typeRegular && type != .typeSymbolicLink {
            throw ValidationError("--save \(save): is not a regular file (a device, FIFO or socket); not replacing it")
        }
        do { _ = try recipe(trainCount: 60_000) } catch { throw ValidationError(error.description) }
    }

    /// The flags as overrides of a recipe.
    func overrides() throws(RecipeError) -> RecipeOverrides {
        var o = RecipeOverrides()
        if let layers { o.hidden = try RecipeOverrides.parseLayers(layers) }
        o.activation = activation?.value
        o.output = output
        o.loss = loss
        o.initializer = initializer?.value
        o.optimizer = optimizer
        o.momentum = momentum
        o.weightDecay = weightDecay
        o.learningRate = lr
        o.schedule = schedule
        o.stepEvery = stepEvery
        o.gamma = gamma
        o.batchSize = batchSize
        o.batching = batching
        o.reduction = reduction
        o.epochs = epochs
        o.steps = steps
        o.reportEvery = reportEvery
        o.l2 = l2
        o.seed = seed
        o.validation = validation
        if let average { o.averaging = try RecipeOverrides.parseAveraging(average) }
        if let anneal { o.annealing = try RecipeOverrides.parseAnnealing(anneal) }
        if let augment { o.augmentation = try RecipeOverrides.parseAugmentation(augment) }
        return o
    }

    /// The preset with the flags applied, checked by the library.
    func recipe(trainCount: Int) throws(RecipeError) -> Recipe {
        try overrides().recipe(preset: preset, trainCount: trainCount)
    }

    // MARK: - Running

    func run() throws {
        do {
            if let resume {
                try resumeTraining(from: resume)
            } else {
                try train(arguments: Self.givenArguments, resuming: nil)
            }
        } catch let failure as CommandFailure {
            Console.err("error: \(failure.description)\n")
            throw ExitCode.failure
        }
    }

    /// The arguments after `digits train`, as typed (what a checkpoint keeps, to resume).
    static var givenArguments: [String] {
        let args = CommandLine.arguments
        guard let i = args.firstIndex(of: "train") else { return [] }
        return Array(args[(i + 1)...])
    }

    /// `--resume PATH`: the checkpoint's own flags, with this command's --json and --no-progress.
    private func resumeTraining(from path: String) throws {
        let saved: Checkpoint
        do { saved = try Checkpoint.load(from: URL(fileURLWithPath: path)) } catch {
            throw CommandFailure("checkpoint \(path): \(error.problem)")
        }
        guard let text = saved.metadata["arguments"],
              let arguments = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] else {
            throw CommandFailure("checkpoint \(path): the training flags are missing from its metadata")
        }
        var original: Train
        do { original = try Train.parse(arguments) } catch {
            throw CommandFailure("checkpoint \(path): its flags are refused: \(Train.message(for: error))")
        }
        if json { original.json = true }
        if noProgress { original.noProgress = true }
        original.checkpoint = path
        try original.train(arguments: arguments, resuming: (saved, path))
    }

    /// Trains as the flags say, from the start or from a checkpoint, writing checkpoints when
    /// asked and when a signal stops training.
    private func train(arguments: [String], resuming: (checkpoint: Checkpoint, path: String)?) throws {
        let loadStart = ContinuousClock.now
        var sets: (train: Dataset, test: Dataset)
        let firstRecipe: Recipe
        do { firstRecipe = try recipe(trainCount: 60_000) } catch { throw CommandFailure(error.description) }
        do { sets = try data.source.load(sampleShape: firstRecipe.inputShape) } catch { throw CommandFailure(error.description) }
        var heldOut: Dataset?
        if let validation {
            guard validation < sets.train.count else {
                throw CommandFailure("--validation \(validation) leaves no training images: the training set has \(Format.thousands(sets.train.count))")
            }
            let cut = sets.train.count - validation
            heldOut = sets.train.subset(cut..<sets.train.count)
            sets.train = sets.train.subset(0..<cut)
        }
        if let extra {
            do throws(AppError) { sets.train = try ExtraExamples.adding(ExtraExamples.load(extra), to: sets.train, path: extra) } catch {
                throw CommandFailure(error.description)
            }
        }
        let recipe: Recipe
        do { recipe = try self.recipe(trainCount: sets.train.count) } catch { throw CommandFailure(error.description) }
        let loadSeconds = loadStart.elapsedSeconds

        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw CommandFailure(error.description) }
        let trainer: Trainer
        do {
            trainer = try Trainer(model: model, loss: recipe.loss.make(), plan: recipe.plan,
                                  transform: recipe.inputTransform, rng: recipe.trainingRandomSource)
        } catch { throw CommandFailure(error.description) }

        let reporter = Reporter(style: json ? .jsonLines : .text)
        reporter.trainingHeader(preset: preset, source: data.source, train: sets.train.count, validation: heldOut?.count,
                                test: sets.test.count, loadSeconds: loadSeconds, model: model, recipe: recipe)
            .forEach(Console.out)
        if augment != nil && !json {
            Console.out("  augmentation (--augment): \(recipe.plan.augmentation?.summary ?? "none")")
        }

        let showBar = !noProgress && Console.stderrIsTerminal
        var bar = ProgressBar()
        let shape = Reporter.TrainingShape(recipe.plan.length)
        var trainSeconds = 0.0
        // Checkpoints: where, how often, and what they keep besides the trainer's state.
        if let resuming {
            do {
                try resuming.checkpoint.restoreParameters(into: model, path: resuming.path)
            } catch { throw CommandFailure("\(error.description) (the checkpoint does not fit its own recipe)") }
            trainSeconds = resuming.checkpoint.state.reports.reduce(0) { $0 + $1.seconds }
        }
        let checkpointPath = checkpoint ?? Self.defaultCheckpointPath(save: save)
        let every = checkpointEvery ?? {
            switch recipe.plan.length {
            case .epochs: let b = min(recipe.plan.batchSize, sets.train.count); return (sets.train.count + b - 1) / b
            case .steps(_, let reportEvery): return reportEvery
            }
        }()
        let writer = CheckpointWriter(path: checkpointPath, model: model, trainer: trainer, plan: recipe.plan,
                                      metadata: ["arguments": Self.json(arguments), "preset": preset],
                                      lastStep: resuming?.checkpoint.state.step)
        var failure: CommandFailure?

        if let resuming {
            Console.err("resuming \(resuming.path) at step \(resuming.checkpoint.state.step)\n")
        }
        StopSignals.install()
        defer { StopSignals.uninstall() }
        let reports: [TrainingReport]
        do {
            reports = try trainer.train(on: sets.train, validation: heldOut, test: sets.test,
                                        resumingFrom: resuming?.checkpoint.state, onProgress: { p in
                guard showBar else { return }
                bar.update(label: "\(shape.unit) \(p.epoch)/\(shape.totalReports)", done: p.stepInInterval, total: p.stepsInInterval,
                           samples: p.samplesInInterval, seconds: p.seconds)
            }, onReport: { r in
                bar.clear()
                trainSeconds += r.seconds
                Console.out(reporter.trainingReport(r, shape: shape))
            }, afterStep: {
                if StopSignals.received != nil { return .stop }
                let step = trainer.completedSteps
                if checkpoint != nil, step % every == 0, step < trainer.totalSteps {
                    if let problem = writer.write() {
                        failure = problem
                        return .stop
                    }
                }
                return .proceed
            })
        } catch {
            bar.clear()
            if case .diverged = error {
                throw CommandFailure(error.description + writer.keptNote)
            }
            throw CommandFailure(error.description)
        }
        if let failure {
            bar.clear()
            throw failure
        }
        if let signal = StopSignals.received, trainer.completedSteps < trainer.totalSteps {
            bar.clear()
            if let problem = writer.write() { throw problem }
            let name = signal == SIGINT ? "interrupted" : "stopped by SIGTERM"
            Console.err("\(name) after step \(trainer.completedSteps) of \(trainer.totalSteps): checkpoint saved; continue with `digits train --resume \(checkpointPath)`\n")
            throw ExitCode(128 + signal)
        }

        let accuracy = reports.last?.testAccuracy ?? 0
        var metadata = ["preset": preset, "seed": String(recipe.seed), "test_accuracy": String(accuracy)]
        // A changed augmentation is recorded (the preset's own is implied by its name).
        if augment != nil { metadata["augmentation"] = recipe.plan.augmentation?.summary ?? "none" }
        let trained = TrainedModel(model: model, inputTransform: recipe.inputTransform, loss: recipe.loss,
                                   metadata: metadata)
        do { try trained.save(to: save) } catch { throw CommandFailure(error.description) }
        if let plot {
            do { try TrainingCurves.write(reports, xLabel: shape.xLabel, to: plot) }
            catch { throw CommandFailure(error.description) }
        }
        reporter.trainingDone(accuracy: accuracy, trainSeconds: trainSeconds, modelPath: save, plotPath: plot)
            .forEach(Console.out)
    }
}

// MARK: - Checkpoint helpers

extension Train {
    /// Where a signal's checkpoint goes without --checkpoint: beside the model,
    /// `model.safetensors` → `model.checkpoint.safetensors`.
    static func defaultCheckpointPath(save: String) -> String {
        save.hasSuffix(".safetensors") ? String(save.dropLast(".safetensors".count)) + ".checkpoint.safetensors" : save + ".checkpoint"
    }

    /// `arguments` as a JSON array of strings.
    static func json(_ arguments: [String]) -> String {
        (try? JSONSerialization.data(withJSONObject: arguments)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}

/// Writes a training run's checkpoints to one file.
final class CheckpointWriter {
    let path: String
    let model: Sequential
    let trainer: Trainer
    let plan: TrainingPlan
    let metadata: [String: String]
    /// The step of the last checkpoint written, if any.
    private(set) var lastStep: Int?

    init(path: String, model: Sequential, trainer: Trainer, plan: TrainingPlan, metadata: [String: String], lastStep: Int?) {
        self.path = path; self.model = model; self.trainer = trainer; self.plan = plan; self.metadata = metadata
        self.lastStep = lastStep
    }

    /// Writes the trainer's state and returns nil, or returns why not: a weight that is no
    /// longer finite (the last good checkpoint then stays as it is), or the file cannot be written.
    func write() -> CommandFailure? {
        guard let state = trainer.state else { return nil }
        for p in model.parameters where !(0..<p.value.count).allSatisfy({ p.value.data[$0].isFinite }) {
            let lr = plan.schedule.rate(base: plan.learningRate, step: max(state.step - 1, 0), totalSteps: trainer.totalSteps)
            return CommandFailure("training diverged by step \(state.step) (learning rate \(FloatText.shortest(lr))): "
                                  + "\(p.name) holds a value that is not finite (try a lower learning rate)" + keptNote)
        }
        do {
            try Checkpoint.save(model: model, state: state, metadata: metadata, to: URL(fileURLWithPath: path))
        } catch { return CommandFailure(error.description) }
        lastStep = state.step
        return nil
    }

    /// The end of a divergence message: which checkpoint is kept, if any.
    var keptNote: String {
        guard let lastStep else { return "" }
        return "; the last good checkpoint, \(path) (step \(lastStep)), is kept"
    }
}

// MARK: - Signals

/// The signal (SIGINT or SIGTERM) that asked training to stop, 0 for none: set by the
/// handler, read between steps.
nonisolated(unsafe) private var pendingStopSignal: sig_atomic_t = 0

/// Ctrl-C (SIGINT) and SIGTERM during training: the handler only notes the signal; training
/// stops at the end of the step, writes a checkpoint and exits with 128 + the signal's number
/// (130 for SIGINT, 143 for SIGTERM).
enum StopSignals {
    /// Notes SIGINT and SIGTERM instead of dying of them.
    static func install() {
        pendingStopSignal = 0
        // A parent may have started us with them blocked (a thread pool's mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            #if os(Linux)
            action.__sigaction_handler.sa_handler = { pendingStopSignal = $0 }
            #else
            action.__sigaction_u.__sa_handler = { pendingStopSignal = $0 }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
    }

    /// Back to the default: a signal ends the process.
    static func uninstall() {
        var action = sigaction()
        #if os(Linux)
        action.__sigaction_handler.sa_handler = SIG_DFL
        #else
        action.__sigaction_u.__sa_handler = SIG_DFL
        #endif
        sigemptyset(&action.sa_mask)
        for signal in [SIGINT, SIGTERM] { sigaction(signal, &action, nil) }
    }

    /// The signal received since `install`, if any.
    static var received: Int32? { pendingStopSignal == 0 ? nil : pendingStopSignal }
}
