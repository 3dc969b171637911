import Foundation

/// Where the tool writes: results to standard output, progress and errors to standard error.
enum Console {
    /// Writes a line to standard output at once (unbuffered, so scripts see each JSON line as it comes).
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes to standard error with no newline added.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Whether standard error is a terminal (so a progress bar can redraw in place).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

/// A failure to report in one line, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
