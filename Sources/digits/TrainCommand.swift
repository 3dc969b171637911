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

    @Option(help: ArgumentHelp("The recipe to start from (see `digits presets`).", valueName: "name"))
    var preset: String = Presets.mlp.name

    @Option(help: ArgumentHelp("Hidden layer sizes of a fully connected network, such as 256,128 (\"none\" for no hidden layer).", valueName: "sizes"))
    var layers: String?

    @Option(help: ArgumentHelp("Hidden activation: sigmoid, tanh, relu, leaky-relu[:alpha].", valueName: "name"))
    var activation: ActivationArgument?

    @Option(help: ArgumentHelp("What the last layer outputs: logits (for ce), sigmoid, softmax, softmax-diagonal.", valueName: "kind"))
    var output: OutputKind?

    @Option(help: ArgumentHelp("Loss: ce (softmax cross-entropy), mse (squared error), bce (binary cross-entropy).", valueName: "name"))
    var loss: LossKind?

    @Option(name: .customLong("init"), help: ArgumentHelp("Weight initialisation: he, xavier, lecun-uniform, uniform:LOW:HIGH, normal:STD, zeros.", valueName: "name"))
    var initializer: InitializerArgument?

    // MARK: - How to train

    @Option(help: ArgumentHelp("Optimiser: sgd, momentum, nesterov, adam, adamw.", valueName: "name"))
    var optimizer: OptimizerArgument?

    @Option(help: ArgumentHelp("Momentum for the momentum and nesterov optimisers.", valueName: "m"))
    var momentum: Float = 0.9

    @Option(name: .customLong("weight-decay"), help: ArgumentHelp("Decoupled weight decay for adamw.", valueName: "x"))
    var weightDecay: Float = 0.01

    @Option(help: ArgumentHelp("Learning rate.", valueName: "x"))
    var lr: Float?

    @Option(help: ArgumentHelp("Learning-rate schedule: constant, step, cosine, one-cycle.", valueName: "name"))
    var schedule: ScheduleArgument?

    @Option(name: .customLong("step-every"), help: ArgumentHelp("With --schedule step: epochs between decays.", valueName: "n"))
    var stepEvery: Int = 1

    @Option(help: ArgumentHelp("With --schedule step: the factor applied at each decay.", valueName: "x"))
    var gamma: Float = 0.5

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Samples per step: 1 is online SGD; 60000 is full-batch gradient descent.", valueName: "n"))
    var batchSize: Int?

    @Option(help: ArgumentHelp("How batches are drawn: shuffled, in-order, with-replacement.", valueName: "rule"))
    var batching: Batching?

    @Option(help: ArgumentHelp("Whether a batch's gradient is the mean or the sum of its samples'.", valueName: "mean|sum"))
    var reduction: Reduction?

    @Option(help: ArgumentHelp("Passes over the training set.", valueName: "n"))
    var epochs: Int?

    @Option(help: ArgumentHelp("Train for this many steps instead of whole epochs.", valueName: "n"))
    var steps: Int?

    @Option(name: .customLong("report-every"), help: ArgumentHelp("With --steps: steps between reports.", valueName: "n"))
    var reportEvery: Int?

    @Option(help: ArgumentHelp("L2 regularisation strength (on weights).", valueName: "x"))
    var l2: Float?

    @Option(help: ArgumentHelp("Random seed: the same seed gives the same weights.", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Hold out the last N training images as a validation set, reported beside the test set.", valueName: "n"))
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

    // MARK: - Validation

    func validate() throws {
        guard Presets.named(preset) != nil else {
            throw ValidationError("no preset named '\(preset)'; choose from: \(Presets.all.map(\.name).joined(separator: ", "))")
        }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
        if reportEvery != nil && steps == nil { throw ValidationError("--report-every goes with --steps") }
        if let l2, l2 < 0 { throw ValidationError("--l2 must be zero or positive") }
        if stepEvery < 1 { throw ValidationError("--step-every must be at least 1") }
        if let validation, validation < 1 { throw ValidationError("--validation must be at least 1") }
        if !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1)") }
        if !(gamma > 0 && gamma <= 1) { throw ValidationError("--gamma must be in (0, 1]") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be zero or positive") }
        do { try recipe(trainCount: 60_000).validate() } catch let e as RecipeError {
            throw ValidationError(e.description)
        }
    }

    /// The preset with the flags applied.
    func recipe(trainCount: Int) throws -> Recipe {
        guard var r = Presets.named(preset)?.recipe else { throw ValidationError("no preset named '\(preset)'") }
        if layers != nil || activation != nil || output != nil || initializer != nil {
            guard case .mlp(var m) = r.network else {
                throw ValidationError("--layers, --activation, --output and --init apply to fully connected presets only")
            }
            if let layers {
                let parts = layers == "none" ? [] : layers.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.allSatisfy({ $0 != nil && $0! > 0 }) else {
                    throw ValidationError("--layers takes positive sizes separated by commas, such as 256,128")
                }
                m.hidden = parts.compactMap { $0 }
            }
            if let activation { m.activation = activation.value }
            if let initializer { m.initializer = initializer.value }
            if let output { m.output = output }
            else if let loss, loss != r.loss {
                // A new loss without a new output: choose the output that loss expects.
                m.output = loss == .crossEntropy ? .logits : .sigmoid
            }
            r.network = .mlp(m)
        }
        if let loss { r.loss = loss }
        if let optimizer {
            r.plan.optimizer = switch optimizer {
            case .sgd: .sgd
            case .momentum: .momentum(momentum, nesterov: false)
            case .nesterov: .momentum(momentum, nesterov: true)
            case .adam: .adam
            case .adamw: .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: weightDecay)
            }
        }
        if let lr { r.plan.learningRate = lr }
        if let batchSize { r.plan.batchSize = batchSize }
        if let batching { r.plan.batching = batching }
        if let reduction { r.plan.reduction = reduction }
        if let l2 { r.plan.l2 = l2 }
        if let seed { r.seed = seed }
        if let epochs { r.plan.length = .epochs(epochs) }
        if let steps { r.plan.length = .steps(steps, reportEvery: reportEvery ?? max(steps / 10, 1)) }
        if let schedule {
            let stepsPerEpoch = (trainCount + min(r.plan.batchSize, trainCount) - 1) / max(min(r.plan.batchSize, trainCount), 1)
            r.plan.schedule = switch schedule {
            case .constant: .constant
            case .step: .step(every: stepEvery * stepsPerEpoch, gamma: gamma)
            case .cosine: .cosine(minFactor: 0)
            case .oneCycle: .oneCycleDefault
            }
        }
        return r
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
        let firstRecipe = try recipe(trainCount: 60_000)
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
        let recipe = try self.recipe(trainCount: sets.train.count)
        let loadSeconds = loadStart.elapsedSeconds

        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw CommandFailure(error.description) }
        let trainer: Trainer
        do {
            trainer = try Trainer(model: model, loss: recipe.loss.make(), plan: recipe.plan,
                                  transform: recipe.inputTransform, rng: recipe.trainingRandomSource)
        } catch { throw CommandFailure(error.description) }

        if !json {
            Console.out("Training \(preset) on \(data.source.description): \(Format.thousands(sets.train.count)) training\(heldOut.map { ", \(Format.thousands($0.count)) validation" } ?? "") and \(Format.thousands(sets.test.count)) test images (loaded in \(String(format: "%.2f", loadSeconds)) s)")
            Console.out(model.summary)
            Console.out("  " + describe(recipe.plan) + ", seed \(recipe.seed)")
        }

        let showBar = !noProgress && Console.stderrIsTerminal
        var bar = ProgressBar()
        let unit = if case .steps = recipe.plan.length { "steps" } else { "epoch" }
        let reportInterval = if case .steps(_, let every) = recipe.plan.length { every } else { 0 }
        let totalReports = switch recipe.plan.length {
        case .epochs(let e): e
        case let .steps(s, every): (s + every - 1) / every
        }
        var trainSeconds = 0.0
        let reports: [TrainingReport]
        do {
            reports = try trainer.train(on: sets.train, validation: heldOut, test: sets.test, onProgress: { p in
                guard showBar else { return }
                bar.update(label: "\(unit) \(p.epoch)/\(totalReports)", done: p.stepInInterval, total: p.stepsInInterval,
                           samples: p.samplesInInterval, seconds: p.seconds)
            }, onReport: { r in
                bar.clear()
                trainSeconds += r.seconds
                if json, heldOut != nil {
                    Console.out(Console.json([
                        "epoch": r.epoch, "step": r.step, "train_loss": r.trainLoss, "train_accuracy": r.trainAccuracy,
                        "validation_loss": r.validationLoss, "validation_accuracy": r.validationAccuracy,
                        "test_loss": r.testLoss, "test_accuracy": r.testAccuracy, "seconds": r.seconds,
                    ]))
                } else if json {
                    Console.out(Console.json([
                        "epoch": r.epoch, "step": r.step, "train_loss": r.trainLoss, "train_accuracy": r.trainAccuracy,
                        "test_loss": r.testLoss, "test_accuracy": r.testAccuracy, "seconds": r.seconds,
                    ]))
                } else {
                    let head = unit == "epoch"
                        ? String(format: "epoch %2d/%d", r.epoch, totalReports)
                        : "step \(Format.thousands(r.step))"
                    let validation = r.validationAccuracy.map {
                        String(format: "  validation loss %.4f acc %@", r.validationLoss ?? .nan, Format.percent($0))
                    } ?? ""
                    Console.out(String(format: "%@  train loss %.4f acc %@%@  test loss %.4f acc %@  %.2f s", head,
                                       r.trainLoss, Format.percent(r.trainAccuracy), validation, r.testLoss ?? .nan,
                                       Format.percent(r.testAccuracy ?? 0), r.seconds))
                }
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
            do { try TrainingCurves.write(reports, xLabel: unit == "epoch" ? "epoch" : "report (every \(reportInterval) steps)", to: plot) }
            catch { throw CommandFailure(error.description) }
        }
        if json {
            Console.out(Console.json(["done": true, "test_accuracy": accuracy, "train_seconds": trainSeconds, "model": save]))
        } else {
            Console.out("Test accuracy \(Format.percent(accuracy)) after \(String(format: "%.1f", trainSeconds)) s of training. Model saved to \(save)")
            if let plot { Console.out("Loss and accuracy curves drawn to \(plot)") }
        }
    }

    private func describe(_ plan: TrainingPlan) -> String {
        let opt = plan.optimizer.make(l2: plan.l2).summary
        let length = switch plan.length {
        case .epochs(let e): "\(e) epoch\(e == 1 ? "" : "s")"
        case .steps(let s, _): "\(Format.thousands(s)) steps"
        }
        return "\(opt), lr \(plan.learningRate) \(plan.schedule.name), batch \(Format.thousands(plan.batchSize)) \(plan.batching.rawValue), \(plan.reduction.rawValue) of gradients, \(length)"
    }
}
