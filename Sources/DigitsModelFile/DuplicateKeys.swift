/// Finds a key that stands twice in one JSON object.
///
/// Foundation's JSON reader keeps one of two equal keys and says nothing, so a model file could
/// hold two different entries for the same tensor and be read either way. This scan refuses
/// such a file. It reads the text as JSON's grammar lays it out (strings with their escapes,
/// objects and arrays nested), compares keys as they are written, and expects text that the
/// JSON reader has already accepted.
enum DuplicateKeys {
    /// The first key that repeats within one object, at any depth, or nil.
    static func first(in text: some Collection<UInt8>) -> String? {
        // One entry per open object or array: the keys seen so far (nil for an array).
        var open: [Set<[UInt8]>?] = []
        var expectingKey = false
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "{"):
                open.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                open.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !open.isEmpty { open.removeLast() }
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = open.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                var string: [UInt8] = []
                while let c = iterator.next(), c != UInt8(ascii: "\"") {
                    string.append(c)
                    if c == UInt8(ascii: "\\"), let escaped = iterator.next() { string.append(escaped) }
                }
                if expectingKey, let keys = open.last, let keys {
                    if keys.contains(string) { return String(decoding: string, as: UTF8.self) }
                    open[open.count - 1] = keys.union([string])
                }
                expectingKey = false
            default:
                break
            }
        }
        return nil
    }
}
