import DigitsCore

// MARK: - `--anneal`

extension RecipeOverrides {
    /// What `--anneal` asks for: no annealing (`none`, even if the preset anneals), or the last
    /// epochs trained on a lighter augmentation (`AugmentationAnnealing`).
    public enum AnnealingChoice: Sendable, Equatable {
        case none
        case anneal(AugmentationAnnealing)
    }

    /// The light augmentation `--anneal EPOCHS[:light]` ends on: `cnn-best`'s shift ±2 px,
    /// rotation ±10°, scale ±10 %.
    public static let lightAugmentation = Augmentation(maxShift: 2, maxRotation: 10, maxScale: 0.1)

    /// Reads `--anneal`'s value:
    ///
    ///     EPOCHS[:light]   the last EPOCHS epochs with shift ±2 px, rotation ±10°, scale ±10 %
    ///     EPOCHS:none      the last EPOCHS epochs without augmentation
    ///     none             the plan's augmentation to the end (a preset's annealing turned off)
    public static func parseAnnealing(_ text: String) throws(RecipeError) -> AnnealingChoice {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "--anneal must be EPOCHS, EPOCHS:light, EPOCHS:none or none, got \"\(text.prefix(60))\""
        if parts == ["none"] { return .none }
        guard (1...2).contains(parts.count) else { throw RecipeError(usage) }
        guard let epochs = Int(parts[0]), (1...Limits.epochs).contains(epochs) else {
            throw RecipeError("--anneal: the epochs annealed must be between 1 and \(Limits.epochs), got \"\(parts[0].prefix(20))\"")
        }
        switch parts.count == 2 ? parts[1] : "light" {
        case "light": return .anneal(AugmentationAnnealing(epochs: epochs, augmentation: lightAugmentation))
        case "none": return .anneal(AugmentationAnnealing(epochs: epochs, augmentation: nil))
        default: throw RecipeError(usage)
        }
    }

    /// "the last 3 epochs lightly augmented": what a plan summary says.
    public static func describe(_ annealing: AugmentationAnnealing) -> String {
        let span = annealing.epochs == 1 ? "the last epoch" : "the last \(annealing.epochs) epochs"
        return annealing.augmentation == nil ? "\(span) without augmentation" : "\(span) lightly augmented"
    }
}
