import Foundation

/// The header every safetensors file opens with, read the same way for model files and
/// checkpoints: an 8-byte little-endian length, then that many bytes of JSON (an object, no key
/// given twice).
enum SafetensorsHeader {
    /// The header's JSON object and where the tensor data starts, or why there is none; `kind`
    /// names the file in the message ("a safetensors file", "a checkpoint").
    static func read(_ data: Data, kind: String) -> Result<(json: [String: Any], end: Int), Problem> {
        guard data.count >= 8 else { return .failure(Problem("too short to be \(kind) (\(data.count) bytes)")) }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(data.count - 8) else {
            return .failure(Problem("header length \(n) does not fit in a file of \(data.count) bytes (truncated or not safetensors)"))
        }
        let end = 8 + Int(n)
        guard let object = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<end)),
              let json = object as? [String: Any] else { return .failure(Problem("header is not valid JSON")) }
        if let key = DuplicateKeys.first(in: data[8..<end]) { return .failure(Problem("header has the key \"\(key)\" twice")) }
        return .success((json, end))
    }

    /// What is wrong with a header, as one phrase.
    struct Problem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
