// Preparing a drawing or photo the way `digits predict` does (DigitsVision's DigitPreparation,
// compiled into the module).

/// Prepares `width × height` pixels of `channels` samples each (1 grey, 2 grey+alpha, 3 RGB,
/// 4 RGBA: a canvas's ImageData is RGBA) into 784 bytes at `out`, MNIST-style. Returns 1, or 0
/// when there is no ink (a blank canvas) or the arguments are bad; the error then says which.
@_cdecl("digits_prepare")
public func digits_prepare(_ pixels: UnsafePointer<UInt8>?, _ width: Int32, _ height: Int32, _ channels: Int32,
                           _ out: UnsafeMutablePointer<UInt8>?) -> Int32 {
    guard let pixels, let out else { return fail("prepare: null pointer", 0) }
    // 4096 × 4096 is far more than a drawing needs, and keeps every product in range.
    guard width >= 1, height >= 1, width <= 4096, height <= 4096, (1...4).contains(channels) else {
        return fail("prepare: a \(width)×\(height) picture of \(channels) channels is out of range", 0)
    }
    let count = Int(width) * Int(height) * Int(channels)
    guard let image = Image(width: Int(width), height: Int(height), channels: Int(channels),
                            pixels: Array(UnsafeBufferPointer(start: pixels, count: count))) else {
        return fail("prepare: bad picture", 0)
    }
    do {
        let prepared = try DigitPreparation.prepare(image, source: "drawing")
        for i in 0..<min(prepared.count, 784) { out[i] = prepared[i] }
        return 1
    } catch {
        return fail(error.kind == .blank ? "no ink found" : "the picture cannot be prepared", 0)
    }
}
