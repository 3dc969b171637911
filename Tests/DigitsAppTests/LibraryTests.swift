import DigitsApp
import DigitsCore
import Testing

/// The library behind the command: overrides, validation, JSON lines, suggestions.
@Suite("DigitsApp library")
struct LibraryTests {
    // MARK: - Overrides and validation

    @Test("--layers parses sizes and refuses empty items, empty lists and sizes over the limit",
          arguments: [("256,128", [256, 128]), (" 64 ", [64]), ("none", []), ("NONE", [])])
    func layers(_ text: String, _ sizes: [Int]) throws {
        #expect(try RecipeOverrides.parseLayers(text) == sizes)
    }

    @Test(arguments: ["256,,128", "", "  ", ",", "256,", "0", "-5", "12a", "100000000", "4611686018427387904",
                      "99999999999999999999999"])
    func badLayers(_ text: String) {
        #expect(throws: RecipeError.self) { try RecipeOverrides.parseLayers(text) }
    }

    @Test("--average parses ema:DECAY[:EPOCHS], swa[:EPOCHS] and none, and sets the plan's averaging")
    func averaging() throws {
        #expect(try RecipeOverrides.parseAveraging("ema:0.999:3") == .average(WeightAveraging(decay: 0.999, epochs: 3)))
        #expect(try RecipeOverrides.parseAveraging("ema:0.99") == .average(WeightAveraging(decay: 0.99, epochs: nil)))
        #expect(try RecipeOverrides.parseAveraging("swa") == .average(.uniform(epochs: 1)))
        #expect(try RecipeOverrides.parseAveraging("swa:2") == .average(.uniform(epochs: 2)))
        #expect(try RecipeOverrides.parseAveraging("none") == RecipeOverrides.AveragingChoice.none)
        for bad in ["", "ema", "ema:1", "ema:0", "ema:-0.5", "ema:nan", "ema:0.9:0", "ema:0.9:x", "ema:0.9:3:1", "swa:0",
                    "swa:-1", "swa:999999999", "sma", "none:1", "EMA:0.9"] {
            #expect(throws: RecipeError.self, "\(bad)") { try RecipeOverrides.parseAveraging(bad) }
        }
        var o = RecipeOverrides()
        o.averaging = .average(.uniform(epochs: 2))
        #expect(try o.apply(to: Presets.mlp.recipe, trainCount: 60_000).plan.averaging == .uniform(epochs: 2))
        o.averaging = RecipeOverrides.AveragingChoice.none
        var averaged = Presets.mlp.recipe
        averaged.plan.averaging = WeightAveraging(decay: 0.9)
        #expect(try o.apply(to: averaged, trainCount: 60_000).plan.averaging == nil)
    }

    @Test("--anneal parses EPOCHS[:light], EPOCHS:none and none, and sets the plan's annealing")
    func annealing() throws {
        let light = RecipeOverrides.lightAugmentation
        #expect(light == Augmentation(maxShift: 2, maxRotation: 10, maxScale: 0.1))
        #expect(try RecipeOverrides.parseAnnealing("3") == .anneal(AugmentationAnnealing(epochs: 3, augmentation: light)))
        #expect(try RecipeOverrides.parseAnnealing("2:light") == .anneal(AugmentationAnnealing(epochs: 2, augmentation: light)))
        #expect(try RecipeOverrides.parseAnnealing("1:none") == .anneal(AugmentationAnnealing(epochs: 1, augmentation: nil)))
        #expect(try RecipeOverrides.parseAnnealing("none") == RecipeOverrides.AnnealingChoice.none)
        for bad in ["", "0", "-1", "x", "3:heavy", "3:light:1", "999999999", "none:1", ":light", "3:"] {
            #expect(throws: RecipeError.self, "\(bad)") { try RecipeOverrides.parseAnnealing(bad) }
        }
        var o = RecipeOverrides()
        o.annealing = try RecipeOverrides.parseAnnealing("3")
        let annealed = try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000)
        #expect(annealed.plan.annealing == AugmentationAnnealing(epochs: 3, augmentation: light))
        #expect(annealed.plan.augmentation == ConvPresets.readerAugmentation)
        #expect(Reporter.describe(annealed.plan).contains("the last 3 epochs lightly augmented"))
        o.annealing = RecipeOverrides.AnnealingChoice.none
        #expect(try o.apply(to: annealed, trainCount: 55_000).plan.annealing == nil)
        // The preset's own annealing is described, and one covering the whole run is refused.
        #expect(Reporter.describe(ConvPresets.reader).joined(separator: "\n").contains("the last 4 epochs without augmentation"))
        var short = RecipeOverrides()
        short.epochs = 4
        #expect(throws: RecipeError.self) { try short.apply(to: ConvPresets.reader.recipe, trainCount: 55_000) }
        short.annealing = RecipeOverrides.AnnealingChoice.none
        #expect(try short.apply(to: ConvPresets.reader.recipe, trainCount: 55_000).plan.annealing == nil)
    }

    @Test("--anneal is refused when it covers the whole run, or when the plan has no augmentation to lighten",
          arguments: ["15", "20", "100000:none"])
    func annealingRefused(value: String) throws {
        var o = RecipeOverrides()
        o.annealing = try RecipeOverrides.parseAnnealing(value)
        #expect(throws: RecipeError.self, "\(value) on a 15-epoch reader") { try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000) }
        o.annealing = try RecipeOverrides.parseAnnealing("1")
        o.steps = 100   // fewer steps than one epoch of annealing
        #expect(throws: RecipeError.self) { try o.apply(to: ConvPresets.reader.recipe, trainCount: 55_000) }
        var plain = RecipeOverrides()
        plain.annealing = try RecipeOverrides.parseAnnealing("1")
        #expect(throws: RecipeError.self, "mlp has no augmentation") { try plain.apply(to: Presets.mlp.recipe, trainCount: 60_000) }
    }

    @Test("overrides apply to a preset, and the result is checked as a whole")
    func apply() throws {
        var o = RecipeOverrides()
        o.hidden = [64]
        o.learningRate = 0.01
        o.optimizer = .adam
        o.epochs = 2
        let r = try o.apply(to: Presets.mlp.recipe, trainCount: 60_000)
        guard case .mlp(let m) = r.network else { Issue.record("not an MLP"); return }
        #expect(m.hidden == [64])
        #expect(r.plan.learningRate == 0.01)
        #expect(r.plan.optimizer == .adam)
        #expect(r.plan.length == .epochs(2))

        var bad = RecipeOverrides()
        bad.loss = .crossEntropy
        bad.output = .softmax
        #expect(throws: RecipeError.self) { try bad.apply(to: Presets.mlp.recipe, trainCount: 60_000) }
    }

    @Test("values out of range and sizes past the limits are refused with the flag's name",
          arguments: ["--lr", "--epochs", "--steps", "--batch-size", "--report-every", "--step-every", "--momentum",
                      "parameters", "hidden layers"])
    func limits(_ mentions: String) {
        var o = RecipeOverrides()
        switch mentions {
        case "--lr": o.learningRate = -1
        case "--epochs": o.epochs = .max
        case "--steps": o.steps = .max
        case "--batch-size": o.batchSize = 0
        case "--report-every": o.steps = 10; o.reportEvery = 11
        case "--step-every": o.stepEvery = .max
        case "--momentum": o.momentum = 1
        case "parameters": o.hidden = [1 << 20, 1 << 20]
        default: o.hidden = Array(repeating: 10, count: 65)
        }
        let error = #expect(throws: RecipeError.self) { try o.apply(to: Presets.mlp.recipe, trainCount: 60_000) }
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "")")
    }

    /// The DigitsApp example in README.md ("As a library"), as written.
    @Test("README's DigitsApp example compiles and applies the overrides")
    func readmeLibraryExample() throws {
        var overrides = RecipeOverrides()
        overrides.hidden = try RecipeOverrides.parseLayers("512,256")
        overrides.epochs = 3
        let recipe = try overrides.recipe(preset: "mlp", trainCount: 60_000)   // throws RecipeError with a message
        guard case .mlp(let m) = recipe.network else { Issue.record("not an MLP"); return }
        #expect(m.hidden == [512, 256])
        #expect(recipe.plan.length == .epochs(3))
        let error = #expect(throws: RecipeError.self) { try overrides.recipe(preset: "nope", trainCount: 60_000) }
        #expect(error?.description.hasPrefix("no preset named 'nope'; choose from: mlp,") == true)
    }

    @Test("every preset passes its own checks unchanged", arguments: Presets.all.map(\.name))
    func presetsPass(_ name: String) throws {
        let preset = try #require(Presets.named(name))
        #expect(try RecipeOverrides().apply(to: preset.recipe, trainCount: 60_000) == preset.recipe)
    }

    @Test("a network with no hidden layer is described without a hidden activation")
    func shortDescription() throws {
        let preset = try #require(Presets.named("tutorial-softmax-regression"))
        guard case .mlp(let m) = preset.recipe.network else { Issue.record("not an MLP"); return }
        #expect(m.shortDescription == "784-10")
        #expect(MLPRecipe(hidden: [256, 128], activation: .relu, initializer: .he).shortDescription == "784-256-128-10 relu")
    }

    // MARK: - JSON lines

    @Test("JSON lines keep slashes, write Floats in their shortest form, and null non-finite numbers")
    func json() {
        #expect(JSONLine.object(["model": "models/m.safetensors"]) == #"{"model":"models/m.safetensors"}"#)
        #expect(JSONLine.object(["x": Float(0.9826)]) == #"{"x":0.9826}"#)
        #expect(JSONLine.object(["x": 0.1 + 0.2]) == #"{"x":0.30000000000000004}"#)
        #expect(JSONLine.object(["s": 3.0337760800000004.roundedToMilliseconds]) == #"{"s":3.034}"#)
        #expect(JSONLine.object(["n": Double.nan, "i": Float.infinity, "none": nil as Double?]) == #"{"n":null,"i":null,"none":null}"#)
        #expect(JSONLine.string("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
        #expect(JSONLine.object(["p": [Float(0.5), 0.25], "w": [String]()]) == #"{"p":[0.5,0.25],"w":[]}"#)
    }

    // MARK: - Suggestions

    @Test(arguments: [("trian", "train"), ("tarin", "train"), ("evl", "eval"), ("predcit", "predict"), ("preset", "presets")])
    func suggestion(_ typed: String, _ expected: String) {
        let names = ["train", "eval", "predict", "show", "export", "presets", "bench"]
        #expect(CommandSuggestion.closest(to: typed, among: names) == expected)
    }

    @Test func noSuggestionForSomethingElse() {
        #expect(CommandSuggestion.closest(to: "xyzzy", among: ["train", "eval"]) == nil)
    }

    @Test func directoryFormat() {
        #expect(Format.directory("digits/") == "digits")
        #expect(Format.directory("a//") == "a")
        #expect(Format.directory("/") == "/")
        #expect(Format.directory("x") == "x")
    }
}
