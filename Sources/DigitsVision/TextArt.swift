// MARK: - TextArt

/// A grey picture as text for the terminal: each pixel becomes two characters from a ramp of
/// increasing ink (" .:-=+*#%@"), so a 28×28 digit looks square.
public enum TextArt {
    /// The default ramp, from background to ink.
    public static let ramp = Array(" .:-=+*#%@")

    /// `pixels` (row-major, 0 background … 255 ink; 784 values for 28×28, or any square count,
    /// or `width` given) as lines of text joined by newlines.
    public static func render(_ pixels: [UInt8], width: Int? = nil, ramp: [Character] = TextArt.ramp, frame: Bool = false) -> String {
        let w = width ?? Int(Double(pixels.count).squareRoot().rounded())
        guard w > 0, !ramp.isEmpty, !pixels.isEmpty else { return "" }
        let h = (pixels.count + w - 1) / w
        var lines: [String] = []
        if frame { lines.append("+" + String(repeating: "-", count: 2 * w) + "+") }
        for y in 0..<h {
            var line = frame ? "|" : ""
            for x in 0..<w {
                let i = y * w + x
                let v = i < pixels.count ? Int(pixels[i]) : 0
                let c = ramp[min(ramp.count - 1, v * ramp.count / 256)]
                line.append(c)
                line.append(c)
            }
            if frame { line += "|" }
            lines.append(line)
        }
        if frame { lines.append(lines[0]) }
        return lines.joined(separator: "\n")
    }
}
