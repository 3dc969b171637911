import DigitsCore

// MARK: - `--augment`

extension RecipeOverrides {
    /// What `--augment` asks for: no augmentation at all, or the preset's augmentation with
    /// some parts set (a part turned off, or given another strength).
    public enum AugmentationChoice: Sendable, Equatable {
        /// Train on the images as they are (a preset's annealing goes too: there is nothing to lighten).
        case none
        /// The preset's augmentation (or, for a preset without one, nothing) with these parts
        /// set, in order.
        case edit([AugmentationSetting])
    }

    /// One part of an `Augmentation` set to a value: `elastic=0`, `noise=off`, `rotation=15`.
    public struct AugmentationSetting: Sendable, Equatable {
        public var part: AugmentationPart
        /// The value in the part's own unit (``AugmentationPart/off`` turns it off).
        public var value: Float

        public init(_ part: AugmentationPart, _ value: Float) {
            self.part = part
            self.value = value
        }

        /// Sets this part of `augmentation`.
        public func apply(to augmentation: inout Augmentation) {
            switch part {
            case .shift: augmentation.maxShift = value
            case .rotation: augmentation.maxRotation = value
            case .scale: augmentation.maxScale = value
            case .shear: augmentation.maxShear = value
            case .aspect: augmentation.maxAspect = value
            case .elastic: augmentation.elasticAlpha = value
            case .elasticGrid: augmentation.elasticGrid = Int(value)
            case .thickness: augmentation.thickness = value
            case .blur: augmentation.blurProbability = value
            case .lowResolution: augmentation.lowResolutionProbability = value
            case .contrast: augmentation.minContrast = value
            case .noise: augmentation.maxNoise = value
            }
        }
    }

    /// The parts of an `Augmentation` that `--augment` names, with their ranges.
    public enum AugmentationPart: String, Sendable, CaseIterable {
        case shift, rotation, scale, shear, aspect, elastic
        case elasticGrid = "elastic-grid"
        case thickness, blur
        case lowResolution = "low-res"
        case contrast, noise

        /// The values accepted, in the part's unit.
        public var range: ClosedRange<Float> {
            switch self {
            case .shift: 0...14
            case .rotation: 0...180
            case .scale: 0...0.9
            case .shear: 0...2
            case .aspect: 0...1
            case .elastic: 0...10
            case .elasticGrid: 2...16
            case .thickness: 0...1
            case .blur, .lowResolution: 0...1
            case .contrast: 0.05...1
            case .noise: 0...128
            }
        }

        /// The value that turns the part off (`NAME=off`); nil for the elastic field's grid,
        /// which is a shape, not a strength.
        public var off: Float? {
            switch self {
            case .contrast: 1
            case .elasticGrid: nil
            default: 0
            }
        }

        /// What the value means, for error messages and `--help`.
        public var meaning: String {
            switch self {
            case .shift: "the largest shift in pixels"
            case .rotation: "the largest rotation in degrees"
            case .scale: "the largest relative change of size"
            case .shear: "the largest slant (x moves by up to ±shear·y)"
            case .aspect: "the largest change of aspect (width × e^u, u up to ±aspect)"
            case .elastic: "the elastic field's largest displacement in pixels"
            case .elasticGrid: "the elastic field's control points per side, a whole number"
            case .thickness: "the largest stroke-width change (1: a whole pixel each side)"
            case .blur: "the chance an image is blurred"
            case .lowResolution: "the chance an image is made at half resolution"
            case .contrast: "the faintest ink's factor (1 or off: unchanged)"
            case .noise: "the largest noise standard deviation in grey levels"
            }
        }
    }

    /// No distortion at all: what `--augment NAME=VALUE` edits on a preset without augmentation.
    public static let noAugmentation: Augmentation = {
        var a = Augmentation(maxShift: 0, maxRotation: 0, maxScale: 0)
        a.elasticGrid = ConvPresets.readerAugmentation.elasticGrid
        return a
    }()

    /// Reads `--augment`'s value:
    ///
    ///     none                       no augmentation (and no annealing)
    ///     NAME=VALUE[,NAME=VALUE…]   the preset's augmentation with these parts set;
    ///                                VALUE is a number or `off`
    ///
    /// The names are those of ``AugmentationPart``: shift, rotation, scale, shear, aspect,
    /// elastic, elastic-grid, thickness, blur, low-res, contrast, noise. Each may appear once.
    public static func parseAugmentation(_ text: String) throws(RecipeError) -> AugmentationChoice {
        let trimmed = text.trimmingWhitespace()
        let shown = "\"\(text.prefix(60))\""
        if trimmed.lowercased() == "none" { return .none }
        let names = AugmentationPart.allCases.map(\.rawValue).joined(separator: ", ")
        guard !trimmed.isEmpty else {
            throw RecipeError("--augment must be none or NAME=VALUE,… (VALUE a number or off; names: \(names)), got an empty value")
        }
        var settings: [AugmentationSetting] = []
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "=", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw RecipeError("--augment must be none or NAME=VALUE,… (VALUE a number or off), got \"\(item.prefix(40))\" in \(shown)")
            }
            guard let part = AugmentationPart(rawValue: pair[0].lowercased()) else {
                throw RecipeError("--augment: no part named \"\(pair[0].prefix(30))\"; the parts are \(names)")
            }
            guard !settings.contains(where: { $0.part == part }) else {
                throw RecipeError("--augment: \(part.rawValue) is set twice in \(shown)")
            }
            let range = part.range
            let bounds = "between \(FloatText.shortest(range.lowerBound)) and \(FloatText.shortest(range.upperBound))"
            let value: Float
            if pair[1].lowercased() == "off" {
                guard let off = part.off else {
                    throw RecipeError("--augment: \(part.rawValue) cannot be off (it is \(part.meaning)); turn the field off with elastic=off")
                }
                value = off
            } else {
                guard let number = Float(pair[1]), number.isFinite else {
                    throw RecipeError("--augment: \(part.rawValue) must be a number \(bounds) or off, got \"\(pair[1].prefix(30))\"")
                }
                guard range.contains(number) else {
                    throw RecipeError("--augment: \(part.rawValue) is \(part.meaning), \(bounds); got \(pair[1].prefix(30))")
                }
                guard part != .elasticGrid || number == number.rounded() else {
                    throw RecipeError("--augment: elastic-grid is \(part.meaning), \(bounds); got \(pair[1].prefix(30))")
                }
                value = number
            }
            settings.append(AugmentationSetting(part, value))
        }
        return .edit(settings)
    }

    /// `augmentation` with `choice` applied: nil when nothing is left to distort.
    public static func augmentation(_ augmentation: Augmentation?, with choice: AugmentationChoice) -> Augmentation? {
        guard case .edit(let settings) = choice else { return nil }
        var a = augmentation ?? noAugmentation
        for setting in settings { setting.apply(to: &a) }
        let still = a.maxShift == 0 && a.maxRotation == 0 && a.maxScale == 0 && !a.isExtended
        return still ? nil : a
    }
}
