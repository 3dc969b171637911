import DigitsApp
import DigitsCore
import Foundation

/// One training run as the studio does it (at start-up with no model, or from the page):
/// a recipe trained on MNIST through the core's `Trainer`, reporting progress and epochs, and
/// stoppable from another thread.
public enum TrainingRun {
    /// What a run tells as it goes.
    public enum Event: Sendable {
        /// Where it is within the current epoch (or report interval).
        case progress(epoch: Int, epochs: Int, step: Int, steps: Int, samplesPerSecond: Double)
        /// An epoch (or interval) ended.
        case report(TrainingReport, epochs: Int)
    }

    /// How a run ended.
    public enum Outcome {
        case finished(TrainedModel, accuracy: Double)
        case stopped(TrainedModel?)
    }

    /// How many reports the plan makes (epochs, or step intervals).
    public static func reportCount(_ plan: TrainingPlan) -> Int {
        switch plan.length {
        case .epochs(let e): e
        case let .steps(s, every): (s + every - 1) / max(every, 1)
        }
    }

    /// Trains `recipe` on `train`, testing on `test` after every epoch. `onEvent` is called on the
    /// training thread. A stopped run that finished at least one epoch returns its model.
    public static func run(recipe: Recipe, name: String, train: Dataset, test: Dataset, stop: StopFlag,
                           onEvent: (Event) -> Void) throws(AppError) -> Outcome {
        do { try recipe.validate() } catch { throw AppError(error.description) }
        let model: Sequential
        do { model = try recipe.makeModel() } catch { throw AppError(error.description) }
        let trainer: Trainer
        do {
            trainer = try Trainer(model: model, loss: StoppableLoss(recipe.loss.make(), flag: stop), plan: recipe.plan,
                                  transform: recipe.inputTransform, rng: recipe.trainingRandomSource)
        } catch { throw AppError(error.description) }
        let epochs = reportCount(recipe.plan)
        var lastProgress = ContinuousClock.now - .seconds(1)
        var reports: [TrainingReport] = []
        do {
            try trainer.train(on: train, test: test, onProgress: { p in
                let now = ContinuousClock.now
                guard now - lastProgress >= .milliseconds(100) || p.stepInInterval == p.stepsInInterval else { return }
                lastProgress = now
                onEvent(.progress(epoch: p.epoch, epochs: epochs, step: p.stepInInterval, steps: p.stepsInInterval,
                                  samplesPerSecond: p.seconds > 0 ? Double(p.samplesInInterval) / p.seconds : 0))
            }, onReport: { r in
                reports.append(r)
                onEvent(.report(r, epochs: epochs))
            })
        } catch {
            if stop.isStopped {
                return .stopped(reports.isEmpty ? nil : trained(model, recipe, name, reports))
            }
            throw AppError(error.description)
        }
        return .finished(trained(model, recipe, name, reports), accuracy: reports.last?.testAccuracy ?? 0)
    }

    private static func trained(_ model: Sequential, _ recipe: Recipe, _ name: String, _ reports: [TrainingReport]) -> TrainedModel {
        TrainedModel(model: model, inputTransform: recipe.inputTransform, loss: recipe.loss,
                     metadata: ["preset": name, "seed": String(recipe.seed),
                                "test_accuracy": String(reports.last?.testAccuracy ?? 0),
                                "epochs": String(reports.count)])
    }
}
