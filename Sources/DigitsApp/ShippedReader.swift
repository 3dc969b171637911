import Foundation

/// The pretrained reader shipped with Digits (the `reader` preset, calibrated; its card is
/// `Sources/DigitsApp/Resources/reader/README.md`), bundled as a SwiftPM resource the way the
/// MNIST files are, and the model a command reads when the person has not trained one.
public enum ShippedReader {
    /// The file's name inside the resource folder.
    public static let fileName = "reader.safetensors"
    private static let bundleSuffix = "_DigitsApp"
    private static let resourceFolder = "reader"

    /// The shipped reader's path, or nil when the build has no copy of it: the resource bundle
    /// beside the running executable (also through a symbolic link to it), then the source tree
    /// this module was built from.
    public static var path: String? {
        candidates().map { $0.appendingPathComponent(fileName) }.first { FileManager.default.fileExists(atPath: $0.path) }?.path
    }

    /// The bundled `reader` resource folder (the reader, its card, the font check pictures), or nil.
    public static var directory: URL? {
        candidates().first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("checks").path) }
    }

    private static func candidates() -> [URL] {
        var places: [URL] = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL {
            places.append(executable.deletingLastPathComponent())
            places.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        var found: [URL] = []
        for place in places {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: place.path)) ?? []
            for entry in entries.sorted()
            where entry.hasSuffix(bundleSuffix + ".resources") || entry.hasSuffix(bundleSuffix + ".bundle") {
                let bundleURL = place.appendingPathComponent(entry)
                if let resources = Bundle(url: bundleURL)?.resourceURL {
                    found.append(resources.appendingPathComponent(resourceFolder))
                }
                found.append(bundleURL.appendingPathComponent(resourceFolder))
            }
        }
        found.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources").appendingPathComponent(resourceFolder))
        return found
    }

    /// The model a command reads: `given` (`--model`), else `model.safetensors` in the working
    /// directory, else the shipped reader, with the one line that says so; else
    /// `model.safetensors` (whose absence loading then reports).
    public static func resolve(given: String?) -> (path: String, note: String?) {
        if let given { return (given, nil) }
        if FileManager.default.fileExists(atPath: TrainedModel.defaultPath) { return (TrainedModel.defaultPath, nil) }
        if let shipped = path {
            return (shipped, "No --model and no \(TrainedModel.defaultPath) here: reading with the shipped reader (\(shipped)).")
        }
        return (TrainedModel.defaultPath, nil)
    }
}
