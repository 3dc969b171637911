// MARK: - JSONLine

/// One JSON object on one line, keys in the order given: what `--json` prints.
///
/// Numbers are written in their shortest form that reads back to the same value (a `Float` as
/// a `Float`: `0.9826`, not `0.98259997367858887`); non-finite numbers become `null`. Strings
/// escape only what JSON requires (`"`, `\` and control characters), so paths keep their
/// slashes.
public enum JSONLine {
    /// `{"key":value,…}` for values that are `nil`, `Bool`, `Int`, `Int32`, `UInt64`, `Double`,
    /// `Float`, `String` or arrays of those; other values are written as `null`.
    public static func object(_ fields: KeyValuePairs<String, Any?>) -> String {
        "{" + fields.map { "\(string($0.key)):\(value($0.value))" }.joined(separator: ",") + "}"
    }

    /// One value as JSON.
    public static func value(_ value: Any?) -> String {
        switch value {
        case nil: return "null"
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let i as Int32: return String(i)
        case let i as UInt64: return String(i)
        case let d as Double: return number(d)
        case let f as Float: return f.isFinite ? String(describing: f) : "null"
        case let s as String: return string(s)
        case let a as [Any?]: return "[" + a.map { Self.value($0) }.joined(separator: ",") + "]"
        case let a as [Float]: return "[" + a.map { Self.value($0) }.joined(separator: ",") + "]"
        case let a as [Double]: return "[" + a.map { Self.value($0) }.joined(separator: ",") + "]"
        case let a as [Int]: return "[" + a.map(String.init).joined(separator: ",") + "]"
        case let a as [String]: return "[" + a.map(string).joined(separator: ",") + "]"
        case let some?:
            // An Optional wrapped in Any (such as `Double?`): unwrap it once.
            let mirror = Mirror(reflecting: some)
            if mirror.displayStyle == .optional { return mirror.children.first.map { Self.value($0.value) } ?? "null" }
            return "null"
        }
    }

    /// A `Double` in its shortest round-tripping form (`3.25`, `1e-06`), or `null`.
    public static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        return String(describing: d)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, nothing else.
    public static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

// MARK: - Rounding

extension Double {
    /// Seconds rounded to the millisecond, for reports (`3.034`, not `3.0337760800000004`).
    public var roundedToMilliseconds: Double { (self * 1000).rounded() / 1000 }
}
