/// Numbers as text for summaries and messages, also where Embedded Swift has no `Float`
/// description.
public enum FloatText {
    /// The shortest text that reads back as `x` ("0.2", "1e-05"); in Embedded Swift, up to six
    /// decimals.
    public static func shortest(_ x: Float) -> String {
        #if hasFeature(Embedded)
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        var v = Double(x)
        var text = v < 0 ? "-" : ""
        v = abs(v)
        let whole = v.rounded(.down)
        text += String(Int(whole))
        var micro = Int(((v - whole) * 1_000_000).rounded())
        if micro >= 1_000_000 { return shortest(Float(x < 0 ? -(whole + 1) : whole + 1)) }
        guard micro > 0 else { return text }
        var digits = 6
        while micro % 10 == 0 { micro /= 10; digits -= 1 }
        let fraction = String(micro)
        return text + "." + String(repeating: "0", count: digits - fraction.count) + fraction
        #else
        return "\(x)"
        #endif
    }
}
