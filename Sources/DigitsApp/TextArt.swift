/// Draws a greyscale image in the terminal, two characters a pixel so that it looks square.
public enum TextArt {
    private static let ramp = Array(" .:-=+*#%@")

    /// `pixels` row-major, 0 (background) … 255 (ink).
    public static func render(_ pixels: some Collection<UInt8>, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for (i, v) in pixels.enumerated() {
            let c = ramp[Int(v) * (ramp.count - 1) / 255]
            line.append(c); line.append(c)
            if (i + 1) % width == 0 { lines.append(line); line = "" }
        }
        return lines.joined(separator: "\n")
    }
}
