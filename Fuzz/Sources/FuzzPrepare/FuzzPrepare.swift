import DigitsVision
import FuzzSupport

// The MNIST-style preparation on pixels straight from the input, skipping the codecs: a 5-byte
// header (width and height, little-endian 16-bit, each taken modulo 1,200 plus 1; channels 1-4),
// then samples, repeated to fill the image. Sizes above 1,024 reach the downscaling path; the area
// is capped at 2^16 pixels (the height is cut) to keep each run short. Each input is prepared twice,
// by DigitPreparation and by ReferencePreparation (the plain version): the results must be equal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrepare(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = FuzzSupport.bytes(start, count)
    guard bytes.count > 5 else { return 0 }
    let width = (Int(bytes[0]) | Int(bytes[1]) << 8) % 1_200 + 1
    let height = min((Int(bytes[2]) | Int(bytes[3]) << 8) % 1_200 + 1, max(1, (1 << 16) / width))
    let channels = Int(bytes[4]) % 4 + 1
    let samples = bytes[5...]
    let needed = width * height * channels
    var pixels = [UInt8]()
    pixels.reserveCapacity(needed)
    while pixels.count < needed { pixels.append(contentsOf: samples.prefix(needed - pixels.count)) }
    guard let image = Image(width: width, height: height, channels: channels, pixels: pixels) else {
        fatalError("fuzz harness: \(width)×\(height)×\(channels) with \(pixels.count) samples")  // the harness's own bug
    }
    // The fast preparation must agree bit for bit with the plain one it replaced.
    let fast = Result { () throws(ImageError) -> PreparedDigit in try DigitPreparation.analyse(image, source: "input") }
    let plain = Result { () throws(ImageError) -> PreparedDigit in try ReferencePreparation.analyse(image, source: "input") }
    guard fast == plain else {
        fatalError("\(width)×\(height)×\(channels): DigitPreparation gave \(fast), ReferencePreparation \(plain)")
    }
    switch fast {
    case .success(let digit): FuzzSupport.report("\(width)×\(height)×\(channels): ink box \(digit.inkBox), thickened \(digit.thickened)")
    case .failure(let error): FuzzSupport.report("\(width)×\(height)×\(channels): \(error)")
    }
    return 0
}
