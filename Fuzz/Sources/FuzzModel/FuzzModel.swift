import DigitsCore
import DigitsModelFile
import FuzzSupport
import Foundation

// A model file from its bytes: the safetensors header, the architecture JSON in its metadata (the
// network is rebuilt from it), and the weights; then one sample through the network, which must
// work for any model the reader accepts. An input starting with `{` is taken as the architecture
// JSON alone and wrapped in a header, so that mutations reach the layer sizes directly (inside a
// file they sit in an escaped string).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var data = FuzzSupport.data(start, count)
    if data.first == UInt8(ascii: "{") { data = wrapped(architecture: data) }
    do {
        let loaded = try Safetensors.decode(data, path: "input")
        let model = loaded.model
        let x = Tensor(shape: [1] + model.inputShape)
        let y = model(x)
        FuzzSupport.report("model \(model.inputShape) -> \(model.outputShape), \(model.parameterCount) parameters, output \(y.shape)")
    } catch { FuzzSupport.report("\(error)") }
    return 0
}

/// A model file whose metadata holds `architecture` (as text) and no tensors.
private func wrapped(architecture: Data) -> Data {
    let header: [String: Any] = ["__metadata__": ["architecture": String(decoding: architecture, as: UTF8.self)]]
    guard let json = try? JSONSerialization.data(withJSONObject: header) else { return architecture }
    var file = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(json)
    return file
}
