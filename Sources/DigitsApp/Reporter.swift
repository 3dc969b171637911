import DigitsCore
import DigitsVision
import Foundation

// MARK: - Format

/// Number formatting shared by the reports.
public enum Format {
    /// 60000 -> "60,000"
    public static func thousands(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// 0.98123 -> "98.12%"
    public static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

    /// A directory path as typed, without trailing slashes ("digits/" -> "digits"; "/" stays).
    public static func directory(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}

// MARK: - Reporter

/// What the commands print, as text for people or as JSON lines for scripts (one object per
/// line, see ``JSONLine``). Each method returns the lines to print; an empty array prints
/// nothing.
public struct Reporter: Sendable {
    /// Text for people, or one JSON object per line.
    public enum Style: Sendable, Equatable { case text, jsonLines }

    public var style: Style
    public init(style: Style) { self.style = style }

    // MARK: Training

    /// How a training run counts its reports: per epoch, or every so many steps.
    public struct TrainingShape: Sendable, Equatable {
        /// "epoch" or "steps".
        public var unit: String
        /// Reports the run will make.
        public var totalReports: Int
        /// Steps between reports (0 when reporting per epoch).
        public var reportInterval: Int

        public init(_ length: TrainingLength) {
            switch length {
            case .epochs(let e): (unit, totalReports, reportInterval) = ("epoch", e, 0)
            case let .steps(s, every):
                let every = max(every, 1)
                (unit, totalReports, reportInterval) = ("steps", s / every + (s % every == 0 ? 0 : 1), every)
            }
        }

        /// The plot's x axis label.
        public var xLabel: String { unit == "epoch" ? "epoch" : "report (every \(reportInterval) steps)" }
    }

    /// The lines before training: what is trained on what.
    public func trainingHeader(preset: String, source: DataSource, train: Int, validation: Int?, test: Int,
                               loadSeconds: Double, model: Sequential, recipe: Recipe) -> [String] {
        guard style == .text else { return [] }
        let held = validation.map { ", \(Format.thousands($0)) validation" } ?? ""
        return [
            "Training \(preset) on \(source.description): \(Format.thousands(train)) training\(held) and \(Format.thousands(test)) test images (loaded in \(String(format: "%.2f", loadSeconds)) s)",
            model.summary,
            "  " + Self.describe(recipe.plan) + ", seed \(recipe.seed)",
        ]
    }

    /// One report: an epoch (or an interval of steps) done.
    public func trainingReport(_ r: TrainingReport, shape: TrainingShape) -> String {
        if style == .jsonLines {
            if r.validationLoss != nil {
                return JSONLine.object([
                    "epoch": r.epoch, "step": r.step, "train_loss": Self.loss(r.trainLoss), "train_accuracy": r.trainAccuracy,
                    "validation_loss": r.validationLoss.map(Self.loss), "validation_accuracy": r.validationAccuracy,
                    "test_loss": r.testLoss.map(Self.loss), "test_accuracy": r.testAccuracy,
                    "seconds": r.seconds.roundedToMilliseconds,
                ])
            }
            return JSONLine.object([
                "epoch": r.epoch, "step": r.step, "train_loss": Self.loss(r.trainLoss), "train_accuracy": r.trainAccuracy,
                "test_loss": r.testLoss.map(Self.loss), "test_accuracy": r.testAccuracy, "seconds": r.seconds.roundedToMilliseconds,
            ])
        }
        let head = shape.unit == "epoch"
            ? String(format: "epoch %2d/%d", r.epoch, shape.totalReports)
            : "step \(Format.thousands(r.step))"
        let validation = r.validationAccuracy.map {
            String(format: "  validation loss %.4f acc %@", r.validationLoss ?? .nan, Format.percent($0))
        } ?? ""
        return String(format: "%@  train loss %.4f acc %@%@  test loss %.4f acc %@  %.2f s", head,
                      r.trainLoss, Format.percent(r.trainAccuracy), validation, r.testLoss ?? .nan,
                      Format.percent(r.testAccuracy ?? 0), r.seconds)
    }

    /// The lines after training.
    public func trainingDone(accuracy: Double, trainSeconds: Double, modelPath: String, plotPath: String?) -> [String] {
        if style == .jsonLines {
            return [JSONLine.object(["done": true, "test_accuracy": accuracy,
                                     "train_seconds": trainSeconds.roundedToMilliseconds, "model": modelPath])]
        }
        var lines = ["Test accuracy \(Format.percent(accuracy)) after \(String(format: "%.1f", trainSeconds)) s of training. Model saved to \(modelPath)"]
        if let plotPath { lines.append("Loss and accuracy curves drawn to \(plotPath)") }
        return lines
    }

    /// A mean loss as the `Float` its terms were (`0.28448457`, not `0.28448456668456396`): the
    /// digits past a `Float`'s precision are rounding noise of the sum.
    static func loss(_ value: Double) -> Float { Float(value) }

    /// "SGD (Nesterov momentum 0.9), lr 0.05 cosine, batch 64 shuffled, mean of gradients, 6 epochs"
    public static func describe(_ plan: TrainingPlan) -> String {
        let opt = plan.optimizer.make(l2: plan.l2).summary
        let length = switch plan.length {
        case .epochs(let e): "\(e) epoch\(e == 1 ? "" : "s")"
        case .steps(let s, _): "\(Format.thousands(s)) steps"
        }
        let annealed = plan.annealing.map { ", " + RecipeOverrides.describe($0) } ?? ""
        let averaged = plan.averaging.map { ", " + RecipeOverrides.describe($0) } ?? ""
        return "\(opt), lr \(plan.learningRate) \(plan.schedule.name), batch \(Format.thousands(plan.batchSize)) \(plan.batching.rawValue), \(plan.reduction.rawValue) of gradients, \(length)\(annealed)\(averaged)"
    }

    // MARK: Evaluation

    /// A saved model's result on a test set.
    /// `views`: the number of test-time augmentation views it was read in (nil: the image
    /// alone); `set`: "Test" or "Validation".
    public func evaluation(_ e: Evaluation, modelPath: String, views: Int? = nil, set: String = "Test") -> String {
        let prefix = set.lowercased()
        if style == .jsonLines {
            var fields: KeyValuePairs<String, Any?> = ["\(prefix)_accuracy": e.accuracy, "\(prefix)_loss": Self.loss(e.loss), "count": e.count]
            if let views {
                fields = ["\(prefix)_accuracy": e.accuracy, "\(prefix)_loss": Self.loss(e.loss), "count": e.count, "tta_views": views]
            }
            return JSONLine.object(fields)
        }
        let correct = Int((e.accuracy * Double(e.count)).rounded())
        let tta = views.map { ", with test-time augmentation (\($0) views averaged)" } ?? ""
        return "\(set) accuracy \(Format.percent(e.accuracy)) (\(Format.thousands(correct)) of \(Format.thousands(e.count)) images)\(tta), loss \(String(format: "%.4f", e.loss)), model \(modelPath)"
    }

    // MARK: Predictions

    /// A reading of an image file: the prepared digit as text art, the guess, the top three and
    /// any warnings (`prepared` is where the prepared digit was saved, if it was).
    public func prediction(_ p: Prediction, file: String, pixels: [UInt8], warnings: [String], prepared: String?) -> [String] {
        if style == .jsonLines {
            return [JSONLine.object(["file": file, "digit": p.digit, "confidence": p.confidence,
                                     "probabilities": p.probabilities, "warnings": warnings, "prepared": prepared])]
        }
        var lines = [file, TextArt.render(pixels, width: 28),
                     "Guess: \(p.digit) with \(String(format: "%.1f", p.confidence * 100))% certainty",
                     "Top three: \(p.topThree)"]
        lines += warnings.map { "warning: \($0)" }
        if let prepared { lines.append("Prepared digit saved to \(prepared)") }
        return lines
    }

    /// A reading of test image `index`, labelled `label`.
    public func prediction(_ p: Prediction, index: Int, label: Int, pixels: [UInt8]) -> [String] {
        if style == .jsonLines {
            return [JSONLine.object(["index": index, "label": label, "digit": p.digit,
                                     "confidence": p.confidence, "probabilities": p.probabilities])]
        }
        return [TextArt.render(pixels),
                "Test image \(index), labelled \(label)",
                "Guess: \(p.digit) with \(String(format: "%.1f", p.confidence * 100))% certainty \(p.digit == label ? "(right)" : "(wrong)")",
                "Top three: \(p.topThree)"]
    }

    // MARK: Presets

    /// A preset's hyper-parameters and quirks, as `digits presets` lists them.
    public static func describe(_ p: Preset) -> [String] {
        let r = p.recipe
        var lines = ["\(p.name)\(p.name == Presets.mlp.name ? " (default)" : "")", "  \(p.summary)"]
        if let source = p.source { lines.append("  reproduces the tutorial shared/seeds/\(source)") }
        switch r.network {
        case .mlp(let m):
            lines.append("  network     \(m.shortDescription), init \(m.initializer.name)\(m.biasInitializer == .zeros ? "" : ", bias init \(m.biasInitializer.name)")")
        case let .layers(shape, specs, initializer, biasInitializer):
            lines.append("  network     \(specs.count) layers on inputs \(shape), init \(initializer.name)\(biasInitializer == .zeros ? "" : ", bias init \(biasInitializer.name)")")
        }
        let plan = r.plan
        let length = switch plan.length {
        case .epochs(let e): "\(e) epochs"
        case let .steps(s, every): "\(s) steps (report every \(every))"
        }
        lines.append("  loss        \(r.loss.rawValue) (\(plan.reduction.rawValue) over the batch), input × \(r.inputTransform.scale)\(r.inputTransform.offset == 0 ? "" : " + \(r.inputTransform.offset)")")
        lines.append("  training    \(plan.optimizer.make(l2: plan.l2).summary), lr \(plan.learningRate) \(plan.schedule.name), batch \(plan.batchSize) \(plan.batching.rawValue), \(length), seed \(r.seed)\(plan.annealing.map { ", " + RecipeOverrides.describe($0) } ?? "")\(plan.averaging.map { ", " + RecipeOverrides.describe($0) } ?? "")")
        if let a = p.expectedAccuracy { lines.append("  expected    \(Format.percent(a)) test accuracy") }
        lines += p.quirks.map { "  quirk       \($0)" }
        return lines
    }
}
