import ArgumentParser
import DigitsApp
import DigitsCore
import DigitsVision
import Foundation

/// `--set train | test`
enum SetArgument: String, ExpressibleByArgument, CaseIterable {
    case train, test
}

/// Loads one of the two sets as 28×28 digits, or fails with one line.
private func loadSet(_ set: SetArgument, from data: DataOptions) throws -> Dataset {
    do {
        return try data.source.loadDigits(test: set == .test)
    } catch {
        Console.err("error: \(error.description)\n")
        throw ExitCode.failure
    }
}

/// The bytes of sample `i`.
private func sample(_ d: Dataset, _ i: Int) -> [UInt8] {
    Array(d.features[(i * d.sampleSize)..<((i + 1) * d.sampleSize)])
}

// MARK: - show

/// `digits show`: a grid of digits with their labels, as a PNG.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw a grid of digits with their labels into a PNG.")

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Which images.")
    var set: SetArgument = .train

    @Option(parsing: .unconditional, help: ArgumentHelp("How many digits.", valueName: "n"))
    var count: Int = 50

    @Option(parsing: .unconditional, help: ArgumentHelp("The first index to show (ignored with --seed).", valueName: "n"))
    var start: Int = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Pick the digits at random with this seed instead of in order.", valueName: "n"))
    var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Digits per row.", valueName: "n"))
    var columns: Int = 10

    @Option(help: ArgumentHelp("The PNG to write.", valueName: "path"))
    var out: String = "digits.png"

    func validate() throws {
        guard count >= 1 && count <= 10_000 else { throw ValidationError("--count must be between 1 and 10000") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1") }
        guard start >= 0 else { throw ValidationError("--start must be zero or more") }
        try checkExtension(out, option: "--out", ["png"])
    }

    func run() throws {
        let d = try loadSet(set, from: data)
        let indices: [Int]
        if let seed {
            var rng = RandomSource(seed: seed)
            var all = Array(0..<d.count)
            rng.shuffle(&all)
            indices = Array(all.prefix(count))
        } else {
            guard start < d.count else {
                Console.err("error: --start \(start) is past the end of the \(set.rawValue) set (\(Format.thousands(d.count)) images)\n")
                throw ExitCode.failure
            }
            indices = Array(start..<min(start + count, d.count))
        }
        let picture = DigitGrid.render(images: indices.map { sample(d, $0) }, labels: indices.map { String(d.labels[$0]) },
                                       columns: columns)
        do { try ImageIO.writePNG(picture, to: URL(fileURLWithPath: out)) } catch {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        }
        Console.out("Wrote \(indices.count) \(set.rawValue) digit\(indices.count == 1 ? "" : "s") with their labels to \(out) (\(picture.width)×\(picture.height))")
    }
}

// MARK: - export

/// `digits export`: each digit of a range as its own PNG, named with index and label.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write digits as PNG files named with their index and label.")

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Which images.")
    var set: SetArgument = .test

    @Option(parsing: .unconditional, help: ArgumentHelp("Which indices: A..<B (B excluded) or A...B (B included).", valueName: "range"))
    var range: String

    @Option(help: ArgumentHelp("The directory to write into (created if needed).", valueName: "dir"))
    var out: String

    /// The parsed range, or why it cannot be read.
    static func parse(_ text: String) -> Result<Range<Int>, ValidationError> {
        let usage = "--range takes A..<B (B excluded) or A...B (B included) with 0 ≤ A < B, such as 0..<20"
        let (separator, inclusive) = text.contains("..<") ? ("..<", false) : ("...", true)
        guard let r = text.range(of: separator) else { return .failure(ValidationError("\(usage); got '\(text)'")) }
        let (first, second) = (String(text[..<r.lowerBound]), String(text[r.upperBound...]))
        guard [first, second].allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return .failure(ValidationError("\(usage); got '\(text)'"))
        }
        // Indices past Int's range, or an inclusive end at Int.max, cannot index any set.
        guard let a = Int(first), let b = Int(second), !(inclusive && b == Int.max) else {
            return .failure(ValidationError("--range \(text): an index that large is past the end of any set"))
        }
        guard inclusive ? a <= b : a < b else { return .failure(ValidationError("\(usage); got '\(text)'")) }
        return .success(a..<(inclusive ? b + 1 : b))
    }

    func validate() throws {
        _ = try Export.parse(range).get()
    }

    func run() throws {
        let d = try loadSet(set, from: data)
        guard let r = try? Export.parse(range).get(), r.upperBound <= d.count else {
            Console.err("error: --range \(range) goes past the end of the \(set.rawValue) set (\(Format.thousands(d.count)) images)\n")
            throw ExitCode.failure
        }
        let dir = Format.directory(out)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in r {
                guard let image = Image(digit28: sample(d, i)) else { continue }
                let name = String(format: "%@-%05d-label-%d.png", set.rawValue, i, Int(d.labels[i]))
                try ImageIO.writePNG(image, to: URL(fileURLWithPath: dir).appendingPathComponent(name))
            }
        } catch let error as ImageError {
            Console.err("error: \(error.description)\n")
            throw ExitCode.failure
        } catch {
            Console.err("error: cannot create the directory \(dir): \(error.localizedDescription)\n")
            throw ExitCode.failure
        }
        Console.out("Wrote \(r.count) \(set.rawValue) digit\(r.count == 1 ? "" : "s") to \(dir == "/" ? "" : dir)/ (\(set.rawValue)-INDEX-label-LABEL.png)")
    }
}
