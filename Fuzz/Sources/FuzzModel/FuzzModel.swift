import DigitsCore
import FuzzSupport

// A model file from its bytes: the safetensors header, the architecture JSON in its metadata (the
// network is rebuilt from it), and the weights; then one sample through the network, which must
// work for any model the reader accepts. Re-point the import and the call when decoding moves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do {
        let loaded = try Safetensors.decode(FuzzSupport.data(start, count), path: "input")
        let model = loaded.model
        let x = Tensor(shape: [1] + model.inputShape)
        let y = model(x)
        FuzzSupport.report("model \(model.inputShape) -> \(model.outputShape), \(model.parameterCount) parameters, output \(y.shape)")
    } catch { FuzzSupport.report("\(error)") }
    return 0
}
