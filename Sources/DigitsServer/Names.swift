/// Names that requests give (models, trainings) become file names inside the data directory, so
/// they are checked: 1 to 64 letters, digits, `-`, `_` and `.`, not starting with a dot. No
/// `/`, so no absolute path and no `..` can reach outside the directory.
///
/// Imports nothing: the `request` fuzz target compiles this file with `RequestDecoding.swift`.
public enum Names {
    /// The longest name accepted.
    public static let maximumLength = 64
    /// What a name may hold, for messages.
    public static let rule = "1-\(maximumLength) letters, digits, '-', '_' or '.', not starting with '.'"

    /// Whether `name` is safe to use as a file name in the data directory.
    public static func isValid(_ name: String) -> Bool {
        guard (1...maximumLength).contains(name.utf8.count), name.first != "." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }
}
