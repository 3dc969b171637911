import DigitsVision
import FuzzSupport

// A PNG or JPEG file as `digits predict FILE` reads it: decoded (libpng/libjpeg through CImageIO),
// then prepared the MNIST way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do {
        let (image, info) = try ImageIO.decodeWithInfo(FuzzSupport.bytes(start, count), name: "input")
        FuzzSupport.report("\(info.format) \(image.width)×\(image.height)×\(image.channels)")
        let digit = try DigitPreparation.analyse(image, source: "input")
        FuzzSupport.report("prepared: ink box \(digit.inkBox), contrast \(digit.contrast)")
    } catch { FuzzSupport.report("\(error)") }
    return 0
}
