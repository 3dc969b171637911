import ArgumentParser
import DigitsApp
import DigitsCore

/// `digits presets`: every preset with its hyper-parameters and quirks.
struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presets", abstract: "List the training presets and their settings.")

    func run() {
        for p in Presets.all {
            let r = p.recipe
            Console.out("\(p.name)\(p.name == Presets.mlp.name ? " (default)" : "")")
            Console.out("  \(p.summary)")
            if let source = p.source { Console.out("  reproduces the tutorial shared/seeds/\(source)") }
            switch r.network {
            case .mlp(let m):
                Console.out("  network     \(m.shortDescription), init \(m.initializer.name)\(m.biasInitializer == .zeros ? "" : ", bias init \(m.biasInitializer.name)")")
            case let .layers(shape, specs, initializer, biasInitializer):
                Console.out("  network     \(specs.count) layers on inputs \(shape), init \(initializer.name)\(biasInitializer == .zeros ? "" : ", bias init \(biasInitializer.name)")")
            }
            let plan = r.plan
            let length = switch plan.length {
            case .epochs(let e): "\(e) epochs"
            case let .steps(s, every): "\(s) steps (report every \(every))"
            }
            Console.out("  loss        \(r.loss.rawValue) (\(plan.reduction.rawValue) over the batch), input × \(r.inputTransform.scale)\(r.inputTransform.offset == 0 ? "" : " + \(r.inputTransform.offset)")")
            Console.out("  training    \(plan.optimizer.make(l2: plan.l2).summary), lr \(plan.learningRate) \(plan.schedule.name), batch \(plan.batchSize) \(plan.batching.rawValue), \(length), seed \(r.seed)")
            if let a = p.expectedAccuracy { Console.out("  expected    \(Format.percent(a)) test accuracy") }
            for q in p.quirks { Console.out("  quirk       \(q)") }
            Console.out("")
        }
    }
}
