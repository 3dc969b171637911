import Foundation

// MARK: - MNIST

/// The MNIST data set (or one laid out like it) as a training and a test ``ImageSet``.
///
/// ``load(directory:)`` accepts the file names of the original distribution and of its
/// common re-packagings, each raw or gzip-compressed (detected from the content):
///
/// | set | images | labels |
/// |-----|--------|--------|
/// | train | `train-images-idx3-ubyte` | `train-labels-idx1-ubyte` |
/// | test | `t10k-images-idx3-ubyte` | `t10k-labels-idx1-ubyte` |
///
/// with `.` instead of the second `-` (`train-images.idx3-ubyte`), an optional `.gz`,
/// `test` instead of `t10k`, and an optional prefix ending in `-`, `_` or `.`
/// (EMNIST's `emnist-digits-train-images-idx3-ubyte.gz`). Fashion-MNIST uses the MNIST
/// names. Note that EMNIST stores its images transposed (column-major); they are
/// returned as stored.
public enum MNIST {
    // MARK: - Bundled copy

    /// The directory of the MNIST copy bundled with this module as a SwiftPM resource,
    /// so training works offline from any working directory.
    ///
    /// The resource bundle (`<package>_DigitsData.resources`, or `.bundle` on Apple
    /// platforms) is looked for next to the running executable (also through a symlink to
    /// it), then in the source tree this module was built from. Unlike SwiftPM's generated
    /// `Bundle.module`, a missing bundle is an error, not a crash.
    ///
    /// - Throws: ``DataError/bundleNotFound(searched:)`` when no bundled copy is found.
    public static var bundledDirectory: URL {
        get throws(DataError) {
            let (candidates, searched) = bundledCandidates()
            for directory in candidates where isDirectory(directory) {
                let probe = directory.appendingPathComponent(FileRole.trainImages.stems[0] + ".gz")
                if FileManager.default.fileExists(atPath: probe.path) { return directory }
            }
            throw .bundleNotFound(searched: searched)
        }
    }

    /// Loads the bundled copy: 60,000 training and 10,000 test images of 28×28.
    public static func loadBundled() throws(DataError) -> (train: ImageSet, test: ImageSet) {
        try load(directory: bundledDirectory)
    }

    // MARK: - Loading a directory

    /// Loads the four IDX files of an MNIST-style data set from `directory`.
    ///
    /// - Throws: ``DataError/fileNotFound(file:)`` if the directory does not exist,
    ///   ``DataError/missingFile(directory:name:)`` naming the file looked for,
    ///   ``DataError/ambiguousFiles(directory:names:)`` when several differently named
    ///   files could serve, ``DataError/shapeMismatch(file:rows:columns:expectedRows:expectedColumns:)``
    ///   when test and training images differ in size, and anything ``IDX/loadPair(images:labels:)`` throws.
    public static func load(directory: URL) throws(DataError) -> (train: ImageSet, test: ImageSet) {
        let names = try listing(of: directory)
        let trainImages = try find(.trainImages, in: names, directory: directory, prefix: nil)
        let prefix = trainImages.prefix
        let trainLabels = try find(.trainLabels, in: names, directory: directory, prefix: prefix)
        let testImages = try find(.testImages, in: names, directory: directory, prefix: prefix)
        let testLabels = try find(.testLabels, in: names, directory: directory, prefix: prefix)

        let file = { (name: String) in directory.appendingPathComponent(name) }
        let train = try IDX.loadPair(images: file(trainImages.name), labels: file(trainLabels.name))
        let test = try IDX.loadPair(images: file(testImages.name), labels: file(testLabels.name))
        guard test.rows == train.rows, test.columns == train.columns else {
            throw .shapeMismatch(
                file: DataFile.name(file(testImages.name)), rows: test.rows, columns: test.columns,
                expectedRows: train.rows, expectedColumns: train.columns
            )
        }
        return (train, test)
    }

    // MARK: - Finding files

    /// The four files of a data set, with the names each may have (before any prefix or `.gz`).
    enum FileRole: CaseIterable {
        case trainImages, trainLabels, testImages, testLabels

        /// Accepted names, the canonical MNIST one first.
        var stems: [String] {
            switch self {
            case .trainImages: return ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]
            case .trainLabels: return ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"]
            case .testImages:
                return ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte", "test-images-idx3-ubyte", "test-images.idx3-ubyte"]
            case .testLabels:
                return ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte", "test-labels-idx1-ubyte", "test-labels.idx1-ubyte"]
            }
        }
    }

    /// A file chosen for a role: its name, and the prefix before the accepted name.
    struct Match: Equatable {
        var name: String
        var prefix: String
        var stemRank: Int
        var isCompressed: Bool
        var base: String { name.lowercased().hasSuffix(".gz") ? String(name.dropLast(3)) : name }
    }

    /// Every file in `names` that could serve `role`.
    static func matches(_ role: FileRole, in names: [String]) -> [Match] {
        var found: [Match] = []
        for name in names {
            let lower = name.lowercased()
            let isCompressed = lower.hasSuffix(".gz")
            let base = isCompressed ? String(lower.dropLast(3)) : lower
            for (rank, stem) in role.stems.enumerated() where base.hasSuffix(stem) {
                let prefix = String(base.dropLast(stem.count))
                guard prefix.isEmpty || prefix.last.map({ "-_.".contains($0) }) == true else { continue }
                found.append(Match(name: name, prefix: prefix, stemRank: rank, isCompressed: isCompressed))
                break
            }
        }
        return found
    }

    /// Chooses the file for `role`: an unprefixed name first (canonical spelling first), else
    /// the one with `prefix` (the training images' prefix), else the only prefixed one;
    /// a raw file is preferred over the same file gzipped.
    static func find(_ role: FileRole, in names: [String], directory: URL, prefix: String?) throws(DataError) -> Match {
        let all = matches(role, in: names)
        guard !all.isEmpty else {
            throw .missingFile(directory: DataFile.name(directory), name: role.stems[0])
        }
        let order: (Match, Match) -> Bool = { a, b in
            (a.stemRank, a.isCompressed ? 1 : 0, a.name) < (b.stemRank, b.isCompressed ? 1 : 0, b.name)
        }
        let unprefixed = all.filter { $0.prefix.isEmpty }
        if let best = unprefixed.min(by: order) { return best }
        if let prefix, let best = all.filter({ $0.prefix == prefix }).min(by: order) { return best }
        let prefixes = Set(all.map(\.prefix))
        guard prefixes.count == 1, let best = all.min(by: order) else {
            throw .ambiguousFiles(directory: DataFile.name(directory), names: all.map(\.name).sorted())
        }
        return best
    }

    /// The names of the entries in `directory`.
    private static func listing(of directory: URL) throws(DataError) -> [String] {
        let path = DataFile.name(directory)
        var isDir: ObjCBool = false
        guard directory.isFileURL, FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir) else {
            throw .fileNotFound(file: path)
        }
        guard isDir.boolValue else { throw .unreadable(file: path, reason: "not a directory") }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .unreadable(file: path, reason: "cannot list directory")
        }
    }

    // MARK: - Locating the bundle

    private static let bundleSuffix = "_DigitsData"
    private static let resourceFolder = "mnist"

    /// Places the bundled `mnist` folder may be, most likely first, and a description of
    /// each place looked in (for the error message).
    private static func bundledCandidates() -> (candidates: [URL], searched: [String]) {
        var places: [URL] = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL {
            places.append(executable.deletingLastPathComponent())
            places.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        var candidates: [URL] = []
        var searched: [String] = []
        for place in places {
            let pattern = place.appendingPathComponent("*\(bundleSuffix).resources/\(resourceFolder)").path
            if !searched.contains(pattern) { searched.append(pattern) }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: place.path)) ?? []
            for entry in entries.sorted()
            where entry.hasSuffix(bundleSuffix + ".resources") || entry.hasSuffix(bundleSuffix + ".bundle") {
                let bundleURL = place.appendingPathComponent(entry)
                if let resources = Bundle(url: bundleURL)?.resourceURL {
                    candidates.append(resources.appendingPathComponent(resourceFolder))
                }
                candidates.append(bundleURL.appendingPathComponent(resourceFolder))
            }
        }
        // The source tree this file was compiled from (development builds, tests).
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources").appendingPathComponent(resourceFolder)
        candidates.append(sources)
        searched.append(sources.path)
        return (candidates, searched)
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }
}
