import DigitsData
import Foundation

/// A person's own labelled digits, kept in a directory as an IDX data set
/// (`images-idx3-ubyte`, `labels-idx1-ubyte`, readable by any MNIST tool).
///
/// Nothing acknowledged is lost: `append` first adds the example to an append-only journal
/// (`journal.bin`, one record of 1 label byte and 784 pixels per example) and flushes it to disk
/// with `fsync`; only then does it rewrite the IDX pair, each file atomically (a temporary file,
/// `fsync`, then a rename). A crash between the two renames leaves the journal complete, and the
/// next `load` rebuilds the pair from it. A torn last record (a crash during the journal write)
/// was never acknowledged and is ignored.
public final class ExampleStore: @unchecked Sendable {
    /// Pixels in one example (28×28).
    public static let pixelsPerExample = 784
    /// The most examples a store keeps (about 8 MB): a bound on what requests can make it hold.
    public static let capacity = 10_000

    public let directory: URL
    public var imagesURL: URL { directory.appendingPathComponent("images-idx3-ubyte") }
    public var labelsURL: URL { directory.appendingPathComponent("labels-idx1-ubyte") }
    public var journalURL: URL { directory.appendingPathComponent("journal.bin") }

    private let lock = NSLock()
    private var pixels: [UInt8] = []
    private var labels: [UInt8] = []

    /// Opens (creating if needed) the store in `directory`, reading what the journal holds and
    /// rebuilding the IDX pair if it is behind.
    public init(directory: URL) throws(AppStoreError) {
        self.directory = directory
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw AppStoreError("cannot create the examples directory \(directory.path): \(error.localizedDescription)")
        }
        let record = 1 + Self.pixelsPerExample
        if let data = FileManager.default.contents(atPath: journalURL.path) {
            let whole = data.count / record
            for i in 0..<min(whole, Self.capacity) {
                let start = i * record
                let label = data[data.startIndex + start]
                guard label <= 9 else { break }
                labels.append(label)
                pixels.append(contentsOf: data[(data.startIndex + start + 1)..<(data.startIndex + start + record)])
            }
            if data.count % record != 0 || labels.count < whole {
                // Drop the torn or bad tail so the next append starts on a record boundary.
                try rewriteJournal()
            }
        }
        let onDisk = try? IDX.loadPair(images: imagesURL, labels: labelsURL)
        if onDisk?.count != labels.count { try writeIDX() }
    }

    /// How many examples the store holds.
    public var count: Int { lock.withLock { labels.count } }

    /// Every example: 784 pixels each (0 background … 255 ink) and their labels.
    public var all: (pixels: [UInt8], labels: [UInt8]) { lock.withLock { (pixels, labels) } }

    /// Adds one example and returns its index once it is safely on disk.
    @discardableResult
    public func append(pixels sample: [UInt8], label: Int) throws(AppStoreError) -> Int {
        guard sample.count == Self.pixelsPerExample else {
            throw AppStoreError("an example has \(Self.pixelsPerExample) pixels, got \(sample.count)")
        }
        guard (0...9).contains(label) else { throw AppStoreError("label must be a digit 0-9, got \(label)") }
        lock.lock(); defer { lock.unlock() }
        guard labels.count < Self.capacity else {
            throw AppStoreError("the examples directory is full (\(Self.capacity) examples)")
        }
        try appendToJournal([UInt8(label)] + sample)
        labels.append(UInt8(label))
        pixels.append(contentsOf: sample)
        try writeIDX()
        return labels.count - 1
    }

    // MARK: - Files

    private func appendToJournal(_ bytes: [UInt8]) throws(AppStoreError) {
        let fd = open(journalURL.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw AppStoreError("cannot open \(journalURL.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            // Cut a partial record off again so the journal stays whole.
            if written > 0 { _ = ftruncate(fd, lseek(fd, 0, SEEK_END) - off_t(written)) }
            throw AppStoreError("cannot write \(journalURL.path): \(reason)")
        }
    }

    private func rewriteJournal() throws(AppStoreError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(labels.count * (1 + Self.pixelsPerExample))
        for i in labels.indices {
            bytes.append(labels[i])
            bytes.append(contentsOf: pixels[(i * Self.pixelsPerExample)..<((i + 1) * Self.pixelsPerExample)])
        }
        try Self.writeAtomically(bytes, to: journalURL)
    }

    private func writeIDX() throws(AppStoreError) {
        let n = UInt32(labels.count)
        try Self.writeAtomically(Self.bigEndian([IDX.imagesMagic, n, 28, 28]) + pixels, to: imagesURL)
        try Self.writeAtomically(Self.bigEndian([IDX.labelsMagic, n]) + labels, to: labelsURL)
    }

    private static func bigEndian(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { w in [UInt8(w >> 24), UInt8((w >> 16) & 0xFF), UInt8((w >> 8) & 0xFF), UInt8(w & 0xFF)] }
    }

    /// A temporary file beside `url`, flushed, then renamed over it; removed on every error path.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws(AppStoreError) {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw AppStoreError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: String?
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { failure = String(cString: strerror(errno)); return }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw AppStoreError("cannot write \(url.path): \(failure)")
        }
    }
}

/// A failure of the studio's files, with a message for a person.
public struct AppStoreError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
