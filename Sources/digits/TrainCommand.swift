import ArgumentParser
import DigitsApp
import DigitsCore
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

    // MARK: - Data and output

    @OptionGroup(title: "Data")
    var data: DataOptions

    @Option(help: ArgumentHelp("Where to save the trained model.", valueName: "path"))
    var save: String = TrainedModel.defaultPath

    @Option(help: ArgumentHelp("Draw the loss and accuracy curves, train against test, into this PNG (or SVG, by its extension).", valueName: "path"))
    var plot: String?

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @Flag(name: .customLong("no-progress"), help: "No progress bar, only a line per epoch.")
    var noProgress = false

    // MARK: - Validation (in the library: RecipeOverrides)

    func validate() throws {
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
        return o
    }

    /// The preset with the flags applied, checked by the library.
    func recipe(trainCount: Int) throws(RecipeError) -> Recipe {
        try overrides().recipe(preset: preset, trainCount: trainCount)
    }

    // MARK: - Running

    func run() throws {
        do {
            try train()
        } catch let failure as CommandFailure {
            Console.err("error: \(failure.description)\n")
            throw ExitCode.failure
        }
    }

    private func train() throws {
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

        let showBar = !noProgress && Console.stderrIsTerminal
        var bar = ProgressBar()
        let shape = Reporter.TrainingShape(recipe.plan.length)
        var trainSeconds = 0.0
        let reports: [TrainingReport]
        do {
            reports = try trainer.train(on: sets.train, validation: heldOut, test: sets.test, onProgress: { p in
                guard showBar else { return }
                bar.update(label: "\(shape.unit) \(p.epoch)/\(shape.totalReports)", done: p.stepInInterval, total: p.stepsInInterval,
                           samples: p.samplesInInterval, seconds: p.seconds)
            }, onReport: { r in
                bar.clear()
                trainSeconds += r.seconds
                Console.out(reporter.trainingReport(r, shape: shape))
            })
        } catch {
            bar.clear()
            throw CommandFailure(error.description)
        }

        let accuracy = reports.last?.testAccuracy ?? 0
        let trained = TrainedModel(model: model, inputTransform: recipe.inputTransform, loss: recipe.loss,
                                   metadata: ["preset": preset, "seed": String(recipe.seed),
                                              "test_accuracy": String(accuracy)])
        do { try trained.save(to: save) } catch { throw CommandFailure(error.description) }
        if let plot {
            do { try TrainingCurves.write(reports, xLabel: shape.xLabel, to: plot) }
            catch { throw CommandFailure(error.description) }
        }
        reporter.trainingDone(accuracy: accuracy, trainSeconds: trainSeconds, modelPath: save, plotPath: plot)
            .forEach(Console.out)
    }
}
