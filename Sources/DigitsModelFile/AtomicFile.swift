import Foundation

/// Writes files so that a crash never leaves half of one: the bytes go to a temporary file in
/// the same directory, which is then renamed over the destination in one step.
public enum AtomicFile {
    /// Writes `data` to `url` atomically. Throws a message naming the file on failure.
    ///
    /// Only a regular file is ever replaced: a symbolic link, a device, a FIFO, a socket or a
    /// directory at `url` is refused (renaming over it would silently put a regular file in
    /// its place, which as root could replace a device node).
    public static func write(_ data: Data, to url: URL) throws(FileWriteError) {
        if let kind = notRegularFile(url.path) {
            throw FileWriteError(path: url.path, reason: "it is \(kind), not a regular file: refusing to replace it")
        }
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)   // a half-written file (a full disk) goes too
            throw FileWriteError(path: url.path, reason: Self.reason(error))
        }
        if rename(tmp.path, url.path) != 0 {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw FileWriteError(path: url.path, reason: why)
        }
    }

    /// What stands at `path` when it is something other than a regular file, or nil (a regular
    /// file, or nothing yet).
    static func notRegularFile(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "a symbolic link"
        case S_IFDIR: return "a directory"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}

/// A file could not be written.
public struct FileWriteError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
