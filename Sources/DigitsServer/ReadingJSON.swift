import DigitsCore
import NIOCore

// MARK: - The reading as JSON, written directly

/// `/api/predict`'s answer written straight into bytes: the same text `jsonLine` makes of a
/// `ReadingBody` (keys sorted, absent optionals left out, numbers as `JSONEncoder` writes them),
/// without `JSONEncoder`'s boxing of 784 integers one by one (its share of the server's time is in
/// BENCHMARKS.md, "Digits Studio under load: the CPU per reading halved"). `ReadingJSONTests`
/// checks the two agree byte for byte.
enum ReadingJSON {
    /// `body` as one line of JSON.
    static func bytes(_ body: ReadingBody) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 * body.prepared.count + 512 + (body.layers?.reduce(0) { $0 + 12 * $1.values.count } ?? 0))
        out.append(contentsOf: #"{"certainty":"#.utf8)
        number(body.certainty, into: &out)
        out.append(contentsOf: #","digit":"#.utf8)
        integer(body.digit, into: &out)
        if let layers = body.layers {
            out.append(contentsOf: #","layers":["#.utf8)
            for (i, layer) in layers.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"index":"#.utf8)
                integer(layer.index, into: &out)
                out.append(contentsOf: #","name":"#.utf8)
                string(layer.name, into: &out)
                out.append(contentsOf: #","shape":"#.utf8)
                list(layer.shape, into: &out, integer)
                out.append(contentsOf: #","values":"#.utf8)
                list(layer.values, into: &out, number)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: #","model":"#.utf8)
        string(body.model, into: &out)
        out.append(contentsOf: #","prepared":"#.utf8)
        list(body.prepared, into: &out, integer)
        out.append(contentsOf: #","probabilities":"#.utf8)
        list(body.probabilities, into: &out, number)
        out.append(contentsOf: #","uncertain":"#.utf8)
        out.append(contentsOf: (body.uncertain ? "true" : "false").utf8)
        if let warning = body.warning {
            out.append(contentsOf: #","warning":"#.utf8)
            string(warning, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    // MARK: - Values

    static func list<T>(_ values: [T], into out: inout [UInt8], _ write: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(v, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Decimal digits of an integer.
    static func integer(_ value: Int, into out: inout [UInt8]) {
        if value >= 0 && value < 10 { out.append(UInt8(truncatingIfNeeded: 48 + value)); return }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }

    /// A finite number as `JSONEncoder` writes it: Swift's shortest round-trip form, without a
    /// trailing `.0` (so 1.0 is `1`). A value that is not finite (which `jsonNumber` never gives) is 0.
    static func number(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else { out.append(UInt8(ascii: "0")); return }
        if value == 0 && value.sign == .plus { out.append(UInt8(ascii: "0")); return }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(contentsOf: text.utf8)
    }

    /// A JSON string: `"`, `\` and control characters escaped (`/` is not, as `.withoutEscapingSlashes`).
    static func string(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in value.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
