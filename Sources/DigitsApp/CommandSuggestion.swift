// MARK: - CommandSuggestion

/// The closest of some names to a mistyped one, for "did you mean …?".
public enum CommandSuggestion {
    /// The name within edit distance 2 of `typed` (or that starts with it), closest first; nil if none.
    public static func closest(to typed: String, among names: [String]) -> String? {
        let typed = typed.lowercased()
        let scored = names.map { ($0, distance(typed, $0.lowercased())) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 { return best.0 }
        if typed.count >= 2, let prefixed = names.first(where: { $0.lowercased().hasPrefix(typed) }) { return prefixed }
        return nil
    }

    /// Levenshtein distance, with a swap of two neighbouring letters counted as one edit.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
