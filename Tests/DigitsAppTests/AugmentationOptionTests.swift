import DigitsApp
import DigitsCore
import Foundation
import Testing

/// `digits train --augment`: parts of a preset's augmentation turned off or set, parsed at the
/// edge, refused in one line, applied to the plan and recorded in the model file.
@Suite struct AugmentationOptionTests {
    typealias Setting = RecipeOverrides.AugmentationSetting

    // MARK: - Parsing

    @Test("--augment parses none and NAME=VALUE|off lists, names in any case, spaces around items")
    func parsing() throws {
        #expect(try RecipeOverrides.parseAugmentation("none") == RecipeOverrides.AugmentationChoice.none)
        #expect(try RecipeOverrides.parseAugmentation(" NONE ") == RecipeOverrides.AugmentationChoice.none)
        #expect(try RecipeOverrides.parseAugmentation("elastic=off,noise=0")
                == .edit([Setting(.elastic, 0), Setting(.noise, 0)]))
        #expect(try RecipeOverrides.parseAugmentation("contrast=off") == .edit([Setting(.contrast, 1)]))
        #expect(try RecipeOverrides.parseAugmentation("Rotation=15, elastic-grid=6 ,low-res=0.5")
                == .edit([Setting(.rotation, 15), Setting(.elasticGrid, 6), Setting(.lowResolution, 0.5)]))
        // Every part has a name, and the bounds of its range are accepted.
        for part in RecipeOverrides.AugmentationPart.allCases {
            for value in [part.range.lowerBound, part.range.upperBound] {
                #expect(try RecipeOverrides.parseAugmentation("\(part.rawValue)=\(value)") == .edit([Setting(part, value)]))
            }
        }
    }

    @Test("--augment refuses unknown names, bad and out-of-range values, repeats and empty items",
          arguments: ["", "  ", "elastic", "elastic=", "=1", "elastic=1,", ",noise=1", "elastic==1", "elastic=1=2",
                      "wobble=1", "noise=-1", "noise=129", "noise=nan", "noise=inf", "noise=1e9", "noise=x",
                      "shift=15", "scale=0.95", "rotation=-5", "contrast=0", "contrast=1.5", "blur=2", "low-res=-0.1",
                      "elastic-grid=1", "elastic-grid=3.5", "elastic-grid=17", "elastic-grid=off",
                      "noise=1,noise=off", "none,noise=1", "off"])
    func refused(spec: String) {
        #expect(throws: RecipeError.self, "\(spec)") { try RecipeOverrides.parseAugmentation(spec) }
    }

    // MARK: - Applying

    @Test("one part off leaves the reader's others as they are; none removes augmentation and the preset's annealing")
    func applying() throws {
        var o = RecipeOverrides()
        o.augmentation = try RecipeOverrides.parseAugmentation("elastic=off,contrast=off")
        let edited = try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000)
        var expected = ConvPresets.readerAugmentation
        expected.elasticAlpha = 0
        expected.minContrast = 1
        #expect(edited.plan.augmentation == expected)
        #expect(edited.plan.annealing == ConvPresets.reader.recipe.plan.annealing, "the preset's annealing is kept")

        o.augmentation = RecipeOverrides.AugmentationChoice.none
        let plain = try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000)
        #expect(plain.plan.augmentation == nil && plain.plan.annealing == nil)
        // Every part off is no augmentation too.
        let allOff = RecipeOverrides.AugmentationPart.allCases.filter { $0.off != nil }.map { "\($0.rawValue)=off" }
        o.augmentation = try RecipeOverrides.parseAugmentation(allOff.joined(separator: ","))
        #expect(try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000).plan.augmentation == nil)
        // An asked annealing with nothing to lighten is refused, as without --augment.
        o.annealing = try RecipeOverrides.parseAnnealing("2:none")
        #expect(throws: RecipeError.self) { try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000) }

        // A preset without augmentation gets only the parts named.
        var mlp = RecipeOverrides()
        mlp.augmentation = try RecipeOverrides.parseAugmentation("rotation=5")
        let rotated = try #require(try mlp.apply(to: Presets.mlp.recipe, trainCount: 60_000).plan.augmentation)
        #expect(rotated.maxRotation == 5 && rotated.maxShift == 0 && rotated.maxScale == 0 && !rotated.isExtended)
    }

    // MARK: - The command

    @Test("digits train --augment trains with it and records it; a bad value is one line and exit 1")
    func command() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticIDX(to: dir, train: 300, test: 50)
        var files: [Data] = []
        for (name, augment) in [("a", "shift=2"), ("b", "shift=2"), ("c", "none")] {
            let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "16", "--epochs", "1", "--seed", "3",
                                           "--augment", augment, "--save", "\(name).safetensors", "--no-progress"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("augmentation (--augment): \(augment == "none" ? "none" : "shift ±2.0 px")"), "\(r.stdout)")
            let model = try TrainedModel.load(from: dir.appendingPathComponent("\(name).safetensors").path)
            #expect(model.metadata["augmentation"] == (augment == "none" ? "none" : "shift ±2.0 px, rotation ±0.0°, scale ±0.0"))
            files.append(try Data(contentsOf: dir.appendingPathComponent("\(name).safetensors")))
        }
        #expect(files[0] == files[1], "the same seed and augmentation give the same file")
        #expect(files[0] != files[2], "the augmentation was used")

        for bad in ["noise=500", "wobble=off"] {
            let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "16", "--epochs", "1", "--augment", bad], in: dir)
            #expect(r.status == 1 && r.stderr.hasPrefix("error: --augment") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        let help = try DigitsCommand.run(["train", "--help"])
        #expect(help.stdout.contains("--augment <spec>"))
    }
}
