import DigitsCore

// MARK: - `--average`

extension RecipeOverrides {
    /// What `--average` asks for: no averaging (`none`, even if the preset averages), or an
    /// average of the weights (`WeightAveraging`).
    public enum AveragingChoice: Sendable, Equatable {
        case none
        case average(WeightAveraging)
    }

    /// Reads `--average`'s value:
    ///
    ///     ema:DECAY[:EPOCHS]   an exponential moving average (DECAY in (0, 1), such as 0.999)
    ///                          of the last EPOCHS epochs (default: the whole run)
    ///     swa[:EPOCHS]         the plain mean of the weights after every step of the last
    ///                          EPOCHS epochs (default 1)
    ///     none                 the last step's weights (a preset's averaging turned off)
    public static func parseAveraging(_ text: String) throws(RecipeError) -> AveragingChoice {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "--average must be ema:DECAY[:EPOCHS], swa[:EPOCHS] or none, got \"\(text.prefix(60))\""
        func epochs(_ s: String) throws(RecipeError) -> Int {
            guard let e = Int(s), (1...Limits.epochs).contains(e) else {
                throw RecipeError("--average: the epochs averaged must be between 1 and \(Limits.epochs), got \"\(s.prefix(20))\"")
            }
            return e
        }
        switch parts.first {
        case "none" where parts.count == 1:
            return .none
        case "swa" where parts.count <= 2:
            return .average(.uniform(epochs: parts.count == 2 ? try epochs(parts[1]) : 1))
        case "ema" where (2...3).contains(parts.count):
            guard let decay = Float(parts[1]), decay > 0, decay < 1 else {
                throw RecipeError("--average ema: the decay must be a number above 0 and below 1 (such as 0.999), got \"\(parts[1].prefix(20))\"")
            }
            return .average(WeightAveraging(decay: decay, epochs: parts.count == 3 ? try epochs(parts[2]) : nil))
        default:
            throw RecipeError(usage)
        }
    }

    /// "EMA 0.999 over the last 3 epochs", "SWA over the last epoch": what a plan summary says.
    public static func describe(_ averaging: WeightAveraging) -> String {
        let span = averaging.epochs.map { $0 == 1 ? "the last epoch" : "the last \($0) epochs" } ?? "the whole run"
        return averaging.decay == 1 ? "weights averaged (SWA) over \(span)" : "weights averaged (EMA \(averaging.decay)) over \(span)"
    }
}
