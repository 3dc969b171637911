import ArgumentParser
import DigitsApp
import DigitsCore
import Foundation

/// `digits calibrate`: fits a model's temperature on held-out training images and stores it in
/// the model file, so that the certainty `predict`, `serve` and `eval` show matches how often
/// the reading is right.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a model's temperature on held-out training images (not the test set) and store it in the model file.",
        discussion: """
            Use the images the model was not trained on: `digits train --validation N` holds out the \
            last N training images, and `--validation N` here fits on the same N. The temperature \
            divides the scores before the softmax; it never changes which digit is read.
            """)

    @Option(help: ArgumentHelp("The model file to calibrate.", valueName: "path"))
    var model: String = TrainedModel.defaultPath

    @Option(parsing: .unconditional, help: ArgumentHelp("Fit on the last N training images (those `digits train --validation N` held out).", valueName: "n"))
    var validation: Int = 5000

    @Option(help: ArgumentHelp("Where to save the calibrated model (default: overwrite --model).", valueName: "path"))
    var save: String?

    @Flag(help: "Also tune the certainty below which a reading is flagged, on the held-out images drawn as photos, form fields, marker and slant, and on generated non-digits.")
    var flag = false

    @Option(name: .customLong("flag-budget"), parsing: .unconditional, help: ArgumentHelp("With --flag: the most of the drawn validation digits that may be flagged, in percent; the threshold is the highest that stays within it.", valueName: "percent"))
    var flagBudget: Double = 2

    @Flag(name: .customLong("batchnorm"), help: "First re-estimate BatchNorm's running statistics on the other training images (undistorted, in order, 128 at a time) for the weights as they are (after weight averaging, say).")
    var batchNorm = false

    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Reading (stored in the model file)") var reading: ReadingOptions

    func validate() throws {
        guard validation > 0 else { throw ValidationError("--validation must be at least 1") }
        guard flagBudget.isFinite, (0...100).contains(flagBudget) else { throw ValidationError("--flag-budget must be a percentage from 0 to 100") }
    }

    func run() throws {
        do throws(AppError) {
            var trained = try TrainedModel.load(from: model)
            reading.apply(to: &trained)
            if let tta = trained.testTimeAugmentation {
                Console.out("Test-time augmentation: \(tta.summary), stored in the model file; the temperature is fitted on the averaged readings.")
            }
            guard trained.outputsLogits else {
                throw AppError("model \(model) ends in a softmax or sigmoid: only a model whose outputs are scores can be calibrated")
            }
            let train = try data.source.load(sampleShape: trained.model.inputShape).train
            try trained.check(fits: train, modelPath: model, dataName: "the training set of \(data.source.description)")
            guard validation < train.count else {
                throw AppError("--validation \(validation) is not less than the \(train.count) training images")
            }
            let s = train.sampleSize, cut = train.count - validation
            let heldOut = Dataset(sampleShape: train.sampleShape, features: Array(train.features[(cut * s)...]),
                                  labels: Array(train.labels[cut...]), classes: train.classes)
            if batchNorm {
                let rest = Dataset(sampleShape: train.sampleShape, features: Array(train.features[..<(cut * s)]),
                                   labels: Array(train.labels[..<cut]), classes: train.classes)
                let before = trained.evaluate(on: heldOut)
                let batches = BatchNormStatistics.recompute(trained.model, on: rest, transform: trained.inputTransform)
                guard batches > 0 else { throw AppError("model \(model) has no BatchNorm layer whose statistics could be re-estimated") }
                let after = trained.evaluate(on: heldOut)
                trained.metadata["batchnorm_statistics"] = "re-estimated on the first \(cut) training images of \(data.source.description), undistorted"
                Console.out(String(format: "BatchNorm statistics re-estimated on the first %d training images (%d batches): validation accuracy %.2f %% -> %.2f %%, loss %.4f -> %.4f.",
                                   cut, batches, before.accuracy * 100, after.accuracy * 100, before.loss, after.loss))
            }
            // A flag threshold was tuned on the old temperature's certainties: without --flag it
            // goes (readings are flagged below the default until it is tuned again).
            if !flag, trained.metadata[TrainedModel.flagBelowKey] != nil || trained.metadata[TrainedModel.flagDisagreementKey] != nil {
                trained.metadata[TrainedModel.flagBelowKey] = nil
                trained.metadata[TrainedModel.flagDisagreementKey] = nil
                Console.out(String(format: "The file's flag threshold was tuned for its old temperature and is removed: readings below %.0f %% certainty are flagged until `digits calibrate --flag` tunes it again.",
                                   Prediction.lowConfidence * 100))
            }
            trained.temperature = 1
            let eceBefore = trained.calibrationReport(on: heldOut).ece
            let fit = trained.calibrate(on: heldOut)
            let eceAfter = trained.calibrationReport(on: heldOut).ece
            trained.metadata["calibrated_on"] = "the last \(validation) training images of \(data.source.description)"
            Console.out(String(format: "Temperature %.4f, fitted on the last %d training images: NLL %.4f -> %.4f, ECE %.2f %% -> %.2f %%.",
                               fit.temperature, validation, fit.nllBefore, fit.nllAfter, eceBefore * 100, eceAfter * 100))
            if flag {
                trained.flagsDisagreement = false
                let budget = flagBudget / 100
                var tuned = try RealisticChecks.tuneFlagThreshold(trained, digits: heldOut, maximumDigitsFlagged: budget, seed: 14)
                if trained.testTimeAugmentation != nil {
                    // Also flagging readings whose views disagree: kept when it flags more of the
                    // validation non-digits within the same budget of validation digits.
                    var disagreeing = trained
                    disagreeing.flagsDisagreement = true
                    let both = try RealisticChecks.tuneFlagThreshold(disagreeing, digits: heldOut, maximumDigitsFlagged: budget,
                                                                      flagDisagreement: true, seed: 14)
                    let better = both.digitsFlagged <= budget && both.nonDigitsFlagged > tuned.nonDigitsFlagged
                    Console.out(String(format: "Flagging readings whose views disagree too: below %.2f certainty, %.1f %% of drawn validation digits flagged, %.1f %% of generated non-digits (%@).",
                                       both.threshold, both.digitsFlagged * 100, both.nonDigitsFlagged * 100,
                                       better ? "kept" : both.digitsFlagged > budget ? "not kept: over the budget of digits" : "not kept: no more non-digits flagged"))
                    if better {
                        tuned = both
                        trained.flagsDisagreement = true
                    }
                }
                trained.flagBelow = tuned.threshold
                Console.out(String(format: "Flag below %.2f certainty, tuned on validation pictures: %.1f %% of drawn validation digits flagged, %.1f %% of generated non-digits.",
                                   tuned.threshold, tuned.digitsFlagged * 100, tuned.nonDigitsFlagged * 100))
            }
            let out = save ?? model
            try trained.save(to: out)
            Console.out("Saved to \(out).")
        } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
    }
}
