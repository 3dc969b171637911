import DigitsVision
import FuzzSupport

// The MNIST-style preparation on pixels straight from the input, skipping the codecs: a 5-byte
// header (width and height, little-endian 16-bit, each taken modulo 1,200 plus 1; channels 1-4),
// then samples, repeated to fill the image. Sides above 1,024 reach the downscaling path; the area
// is capped at `maximumArea` pixels (the height is cut) to keep each run short: what costs time
// beyond a few thousand pixels is the same per-pixel code again, and the preparation's fixed
// stages (the 80×80 working copy, thickening, 20×20, 28×28) run whatever the size.
//
// Every input is prepared by DigitPreparation (the fast version the server and the command use);
// one in `checkEvery` of them, chosen by a hash of the input's bytes (so that a crash or a
// disagreement reproduces from the input alone), is prepared by ReferencePreparation (the plain
// version) too, and the two must agree bit for bit. (Checking every input made the plain version
// most of the run time: BENCHMARKS.md, "Fuzzing".)
let maximumArea = 1 << 11
let checkEvery: UInt64 = 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrepare(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = FuzzSupport.bytes(start, count)
    guard bytes.count > 5 else { return 0 }
    let width = (Int(bytes[0]) | Int(bytes[1]) << 8) % 1_200 + 1
    let height = min((Int(bytes[2]) | Int(bytes[3]) << 8) % 1_200 + 1, max(1, maximumArea / width))
    let channels = Int(bytes[4]) % 4 + 1
    let samples = bytes[5...]
    let needed = width * height * channels
    var pixels = [UInt8]()
    pixels.reserveCapacity(needed)
    while pixels.count < needed { pixels.append(contentsOf: samples.prefix(needed - pixels.count)) }
    guard let image = Image(width: width, height: height, channels: channels, pixels: pixels) else {
        fatalError("fuzz harness: \(width)×\(height)×\(channels) with \(pixels.count) samples")  // the harness's own bug
    }
    let fast = Result { () throws(ImageError) -> PreparedDigit in try DigitPreparation.analyse(image, source: "input") }
    let checked = hash(bytes) % checkEvery == 0
    if checked {
        // The fast preparation must agree bit for bit with the plain one it replaced.
        let plain = Result { () throws(ImageError) -> PreparedDigit in try ReferencePreparation.analyse(image, source: "input") }
        guard fast == plain else {
            fatalError("\(width)×\(height)×\(channels): DigitPreparation gave \(fast), ReferencePreparation \(plain)")
        }
    }
    let note = checked ? " (checked against the plain version)" : ""
    switch fast {
    case .success(let digit): FuzzSupport.report("\(width)×\(height)×\(channels): ink box \(digit.inkBox), thickened \(digit.thickened)\(note)")
    case .failure(let error): FuzzSupport.report("\(width)×\(height)×\(channels): \(error)\(note)")
    }
    return 0
}

/// FNV-1a of `bytes`: a choice that depends on the input alone.
func hash(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
