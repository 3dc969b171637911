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

    /// One JSON object on one line, keys in a fixed order.
    static func json(_ fields: KeyValuePairs<String, Any?>) -> String {
        let parts = fields.map { key, value in "\"\(key)\":\(jsonValue(value))" }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func jsonValue(_ value: Any?) -> String {
        switch value {
        case nil: return "null"
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let i as Int32: return String(i)
        case let d as Double: return d.isFinite ? String(d) : "null"
        case let f as Float: return f.isFinite ? String(f) : "null"
        case let s as String:
            let data = (try? JSONSerialization.data(withJSONObject: [s], options: [])) ?? Data("[\"\"]".utf8)
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        case let a as [Float]: return "[" + a.map { jsonValue($0) }.joined(separator: ",") + "]"
        case let a as [Double]: return "[" + a.map { jsonValue($0) }.joined(separator: ",") + "]"
        case let a as [Int]: return "[" + a.map(String.init).joined(separator: ",") + "]"
        default: return "null"
        }
    }
}

/// A failure to report in one line, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
