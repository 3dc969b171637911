import ArgumentParser
import DigitsApp
import DigitsVision
import Foundation

/// `digits bench`: measures this machine's FMA peak and how close Digits gets to it.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the FMA peak, GEMM speed, training epochs, inference and memory on this machine.",
        discussion: """
            Prints a table (or one JSON object with --json). Each timing is the best of a few \
            repeats, since other programs share the CPU. Build in release mode first: \
            swift build -c release, then .build/release/digits bench.
            """
    )

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Option(parsing: .unconditional, help: "Threads the matrix multiply may use while training and classifying (default: 2 if measured to pay, else 1; results are the same for any count).")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Repeats of each GEMM measurement (the FMA peak and each convolution layer get ten times as many); the best is kept.")
    var repeats = 5

    @Option(parsing: .unconditional, help: "Times each training run is repeated; the best is kept.")
    var epochRepeats = 2

    @Flag(help: "Skip the slow batch-1 epoch of the 784-256-128-10 network.")
    var skipBatchOne = false

    @Option(help: "Also write the JSON report to this file.")
    var saveJSON: String?

    @Option(help: "Run only these parts, comma-separated: peak, gemm, epochs, presets, inference, cnn, reader.")
    var only: String?

    func validate() throws {
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads must be between 1 and 64, got \(threads)") }
        _ = try sections()
        guard (1...1000).contains(repeats), (1...1000).contains(epochRepeats) else {
            throw ValidationError("--repeats and --epoch-repeats must be between 1 and 1000")
        }
    }

    func run() throws {
        let options = Benchmark.Options(threads: threads, repeats: repeats, epochRepeats: epochRepeats, batchOne: !skipBatchOne,
                                        sections: try sections())
        do {
            let report = try Benchmark.run(options) { line in
                if !json { Console.err(line + "\n") }
            }
            Console.out(json ? report.json : report.table)
            if let saveJSON { try ImageIO.writeText(report.json + "\n", to: URL(fileURLWithPath: saveJSON)) }
        } catch let error as ImageError {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        } catch let error as AppError {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        } catch {
            Console.err("error: \(error)\n")
            throw ExitCode.failure
        }
    }

    /// The parts named by `--only`, or nil for all.
    private func sections() throws -> Set<Benchmark.Options.Section>? {
        guard let only else { return nil }
        var set = Set<Benchmark.Options.Section>()
        for name in only.split(separator: ",") {
            guard let section = Benchmark.Options.Section(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--only takes peak, gemm, epochs, presets, inference, cnn, reader; got \(name)")
            }
            set.insert(section)
        }
        return set
    }
}
