import Foundation
@testable import DigitsVision

// MARK: - Test support

/// A fresh temporary folder, removed when the value is released.
final class TemporaryFolder {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("DigitsVisionTests-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ bytes: [UInt8], to name: String) -> URL {
        let target = file(name)
        _ = FileManager.default.createFile(atPath: target.path, contents: Data(bytes))
        return target
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Centre of mass (x, y) of a 28×28 digit in pixel index coordinates.
func centreOfMass(_ pixels: [UInt8], side: Int = 28) -> (x: Double, y: Double) {
    var mass = 0.0, sx = 0.0, sy = 0.0
    for (i, v) in pixels.enumerated() {
        let m = Double(v)
        mass += m
        sx += m * Double(i % side)
        sy += m * Double(i / side)
    }
    return mass > 0 ? (sx / mass, sy / mass) : (Double(side) / 2, Double(side) / 2)
}

/// Bounding box of the pixels above `threshold`.
func inkBounds(_ pixels: [UInt8], side: Int = 28, threshold: UInt8 = 0) -> PixelRect? {
    var minX = side, minY = side, maxX = -1, maxY = -1
    for (i, v) in pixels.enumerated() where v > threshold {
        minX = min(minX, i % side); maxX = max(maxX, i % side)
        minY = min(minY, i / side); maxY = max(maxY, i / side)
    }
    return maxX < 0 ? nil : PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
}

/// Mean absolute difference of two equally long sample arrays.
func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    guard a.count == b.count, !a.isEmpty else { return .infinity }
    var total = 0
    for i in 0..<a.count { total += abs(Int(a[i]) - Int(b[i])) }
    return Double(total) / Double(a.count)
}

/// The smallest mean absolute difference of two 28×28 digits when one is shifted by up to a
/// pixel in each direction (centring by whole pixels can round either way).
func shiftTolerantDifference(_ a: [UInt8], _ b: [UInt8], side: Int = 28) -> Double {
    var best = Double.infinity
    for dy in -1...1 {
        for dx in -1...1 {
            var shifted = [UInt8](repeating: 0, count: a.count)
            for y in 0..<side {
                for x in 0..<side {
                    let sx = x - dx, sy = y - dy
                    if sx >= 0, sy >= 0, sx < side, sy < side { shifted[y * side + x] = a[sy * side + sx] }
                }
            }
            best = min(best, meanAbsoluteDifference(shifted, b))
        }
    }
    return best
}

/// How far a colour is from white (0 white … 765 black).
func distanceFromWhite(_ c: Color) -> Int { 765 - Int(c.r) - Int(c.g) - Int(c.b) }

/// Pixels inside `rect` of `canvas`-like RGB image whose colour satisfies `predicate`.
func count(in image: Image, _ rect: PixelRect, where predicate: (Color) -> Bool) -> Int {
    var n = 0
    for y in max(0, rect.y)..<min(image.height, rect.maxY) {
        for x in max(0, rect.x)..<min(image.width, rect.maxX) {
            let p = image.rgba(x: x, y: y)
            if predicate(Color(p.r, p.g, p.b)) { n += 1 }
        }
    }
    return n
}

func isDark(_ c: Color) -> Bool { c.luma < 100 }

/// A small deterministic test picture: smooth gradients plus a pattern, `channels` deep.
func patternImage(width: Int, height: Int, channels: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let v = (x * 255 / max(1, width - 1) + y * 97 / max(1, height - 1) + c * 60) % 256
                pixels[(y * width + x) * channels + c] = UInt8(c == channels - 1 && (channels == 2 || channels == 4) ? (x + y) * 255 / max(1, width + height - 2) : v)
            }
        }
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)!
}
