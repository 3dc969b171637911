import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - FuzzSupport

/// What the fuzz targets share.
public enum FuzzSupport {
    /// libFuzzer's input as `Data` (an empty input has no pointer).
    public static func data(_ start: UnsafeRawPointer?, _ count: Int) -> Data {
        guard let start, count > 0 else { return Data() }
        return Data(bytes: start, count: count)
    }

    /// libFuzzer's input as bytes.
    public static func bytes(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
        guard let start, count > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    }

    /// `DIGITS_FUZZ_VERBOSE=1` prints what each input gave (to check a seed corpus, or a reproducer).
    public static let verbose = ProcessInfo.processInfo.environment["DIGITS_FUZZ_VERBOSE"] != nil

    /// Prints `text` when verbose.
    public static func report(_ text: @autoclosure () -> String) {
        if verbose { print(text()) }
    }

    /// A file that readers taking a path are given: one per process, in /dev/shm when it exists
    /// (no disk writes), named with the process id so parallel jobs do not collide.
    public static let scratchURL: URL = {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: directory).appendingPathComponent("digits-fuzz-\(getpid())")
        atexit { unlink(FuzzSupport.scratchURL.path) }
        return url
    }()

    /// Replaces the scratch file's contents with `data` and returns its URL.
    public static func scratchFile(_ data: Data) -> URL {
        let url = scratchURL
        if (try? data.write(to: url)) == nil {
            fatalError("fuzz harness: cannot write the scratch file \(url.path)")  // the harness's own failure
        }
        return url
    }
}
