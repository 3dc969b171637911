import ArgumentParser

/// `digits`: train, evaluate and run neural networks that read handwritten digits.
@main
struct Digits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digits",
        abstract: "A neural network from scratch that learns to read handwritten digits.",
        discussion: """
            Start with `digits train`: it trains the default network on the bundled MNIST \
            and saves it to model.safetensors. Then `digits eval` and `digits predict --index 0`.
            """,
        subcommands: [Train.self, Eval.self, Predict.self, Show.self, Export.self, PresetsCommand.self, Bench.self,
                      Web.self],
        defaultSubcommand: nil
    )
}
