import DigitsVision
import FuzzSupport

// The server's request decoding (`RequestDecoding`, compiled here from Sources/DigitsServer through
// the two links beside this file, without the HTTP server): the first byte chooses the endpoint and,
// for /api/predict, the Content-Type; the rest is the body. A body is either used or refused with a
// 4xx status; what is used must be what the server promises to act on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = FuzzSupport.bytes(start, count)
    guard let selector = bytes.first else { return 0 }
    let body = Array(bytes.dropFirst())
    let contentTypes: [String?] = [nil, "image/png", "image/jpeg", "application/json", "application/json; charset=utf-8", "text/plain"]
    do throws(RequestDecoding.Refusal) {
        switch selector % 4 {
        case 0:  // POST /api/predict
            let type = contentTypes[Int(selector / 4) % contentTypes.count]
            let (prepared, layers) = try RequestDecoding.predict(body, contentType: type)
            guard prepared.count == 784 else { fatalError("predict: \(prepared.count) prepared values, not 784") }
            FuzzSupport.report("predict (\(type ?? "no type")): prepared, layers \(layers)")
        case 1:  // POST /api/examples
            let (label, pixels) = try RequestDecoding.example(body)
            guard (0...9).contains(label), pixels.count == 784 else { fatalError("example: label \(label), \(pixels.count) values") }
            FuzzSupport.report("example: label \(label)")
        case 2:  // POST /api/models/select
            let name = try RequestDecoding.modelName(body)
            guard Names.isValid(name), !name.contains("/"), !name.hasPrefix(".") else { fatalError("name accepted: \(name)") }
            FuzzSupport.report("name: \(name)")
        default:  // a name as a request gives it, straight
            let name = String(decoding: body, as: UTF8.self)
            let checked = try RequestDecoding.name(name, what: "the name")
            guard !checked.contains("/"), checked != "..", !checked.hasPrefix(".") else { fatalError("name accepted: \(checked)") }
            FuzzSupport.report("name: \(checked)")
        }
    } catch {
        guard (400...499).contains(error.status), !error.message.isEmpty else {
            fatalError("refused with \(error.status): \(error.message)")
        }
        FuzzSupport.report("\(error.status): \(error.message)")
    }
    return 0
}
