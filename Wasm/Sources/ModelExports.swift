// Building a network layer by layer (the glue reads the architecture from a model file's
// JSON or from a preset), its parameters, and reading digits with it.

// MARK: - Building

nonisolated(unsafe) var pendingShape: [Int] = []
nonisolated(unsafe) var pendingSpecs: [LayerSpec] = []

/// Activation codes: 1 sigmoid, 2 tanh, 3 ReLU, 4 LeakyReLU(alpha).
func activation(_ code: Int32, _ alpha: Float) -> Activation? {
    switch code {
    case 1: return .sigmoid
    case 2: return .tanh
    case 3: return .relu
    case 4: return .leakyReLU(alpha: alpha)
    default: return nil
    }
}

/// Starts a network on samples of shape (d0), (d0, d1) or (d0, d1, d2) (zeros end the shape).
@_cdecl("digits_model_begin")
public func digits_model_begin(_ d0: Int32, _ d1: Int32, _ d2: Int32) -> Int32 {
    var shape: [Int] = []
    for d in [d0, d1, d2] {
        if d == 0 { break }
        guard d > 0, d <= 1 << 16 else { return fail("input shape: dimension \(d) out of range") }
        shape.append(Int(d))
    }
    guard !shape.isEmpty else { return fail("input shape is empty") }
    pendingShape = shape
    pendingSpecs = []
    return 1
}

/// Sizes a layer may have: positive and small enough that no product overflows.
func sane(_ values: Int32...) -> Bool { values.allSatisfy { $0 > 0 && $0 <= 1 << 16 } }

@_cdecl("digits_model_dense")
public func digits_model_dense(_ inputs: Int32, _ outputs: Int32, _ bias: Int32) -> Int32 {
    guard sane(inputs, outputs) else { return fail("dense layer: sizes \(inputs) → \(outputs) out of range") }
    pendingSpecs.append(.dense(inputs: Int(inputs), outputs: Int(outputs), bias: bias != 0))
    return 1
}

@_cdecl("digits_model_activation")
public func digits_model_activation(_ act: Int32, _ alpha: Float) -> Int32 {
    guard let a = activation(act, alpha) else { return fail("unknown activation \(act)") }
    pendingSpecs.append(.activation(a))
    return 1
}

@_cdecl("digits_model_softmax")
public func digits_model_softmax() -> Int32 {
    pendingSpecs.append(.softmax)
    return 1
}

@_cdecl("digits_model_conv2d")
public func digits_model_conv2d(_ inC: Int32, _ outC: Int32, _ kernel: Int32, _ stride: Int32, _ padding: Int32,
                                _ bias: Int32) -> Int32 {
    guard sane(inC, outC, kernel, stride), padding >= 0, padding <= 1 << 8 else { return fail("convolution: sizes out of range") }
    pendingSpecs.append(.conv2d(inChannels: Int(inC), outChannels: Int(outC), kernelSize: Int(kernel), stride: Int(stride),
                                padding: Int(padding), bias: bias != 0))
    return 1
}

@_cdecl("digits_model_maxpool")
public func digits_model_maxpool(_ kernel: Int32, _ stride: Int32) -> Int32 {
    guard sane(kernel, stride) else { return fail("max pooling: sizes out of range") }
    pendingSpecs.append(.maxPool2d(kernelSize: Int(kernel), stride: Int(stride)))
    return 1
}

@_cdecl("digits_model_flatten")
public func digits_model_flatten() -> Int32 {
    pendingSpecs.append(.flatten)
    return 1
}

@_cdecl("digits_model_global_average_pool")
public func digits_model_global_average_pool() -> Int32 {
    pendingSpecs.append(.globalAveragePool)
    return 1
}

@_cdecl("digits_model_dropout")
public func digits_model_dropout(_ rate: Float) -> Int32 {
    pendingSpecs.append(.dropout(rate: rate))
    return 1
}

@_cdecl("digits_model_batchnorm")
public func digits_model_batchnorm(_ channels: Int32, _ momentum: Float, _ epsilon: Float) -> Int32 {
    guard sane(channels) else { return fail("batch norm: channels out of range") }
    pendingSpecs.append(.batchNorm(channels: Int(channels), momentum: momentum, epsilon: epsilon))
    return 1
}

/// Initialiser codes: 0 He, 1 Xavier, 2 LeCun uniform, 3 uniform(a, b), 4 normal(a), 5 zeros.
func initializer(_ code: Int32, _ a: Float, _ b: Float) -> Initializer? {
    switch code {
    case 0: return .he
    case 1: return .xavier
    case 2: return .lecunUniform
    case 3: return .uniform(low: a, high: b)
    case 4: return .normal(std: a)
    case 5: return .zeros
    default: return nil
    }
}

/// Builds the network begun with `digits_model_begin`, its weights drawn from the seed
/// (`seedHigh` · 2³² + `seedLow`) as `digits train` draws them, and returns its handle. Inputs are
/// scaled `byte · scale + offset`.
@_cdecl("digits_model_finish")
public func digits_model_finish(_ seedLow: UInt32, _ seedHigh: UInt32, _ initCode: Int32, _ initA: Float, _ initB: Float,
                                _ scale: Float, _ offset: Float) -> Int32 {
    guard let initializer = initializer(initCode, initA, initB) else { return fail("unknown initialiser \(initCode)") }
    guard scale.isFinite, offset.isFinite else { return fail("input scaling is not finite") }
    if let problem = sizeProblem(pendingShape, pendingSpecs) { return fail(problem) }
    var rng = RandomSource(seed: UInt64(seedHigh) << 32 | UInt64(seedLow))
    do {
        let model = try Sequential(inputShape: pendingShape, specs: pendingSpecs, initializer: initializer, rng: &rng)
        pendingSpecs = []
        return models.insert(ModelBox(model: model, transform: InputTransform(scale: scale, offset: offset)))
    } catch {
        return fail(error.description)
    }
}

/// The sizes a network built here may have: the page's memory is at most 4 GB, and weights are
/// allocated as the network is built, so they are checked before (as DigitsModelFile checks a
/// file's, with limits for a browser).
enum Limits {
    static let layers = 1_024
    static let inputValues = 1 << 22
    static let kernel = 256
    /// Weights in one layer (64 MiB of F32) and in the whole network (256 MiB).
    static let weightsPerLayer = 1 << 24
    static let weights = 1 << 26
}

func sizeProblem(_ shape: [Int], _ specs: [LayerSpec]) -> String? {
    guard specs.count <= Limits.layers else { return "\(specs.count) layers, more than \(Limits.layers)" }
    guard shape.reduce(1, *) <= Limits.inputValues else { return "an input of \(shape) is more than \(Limits.inputValues) values" }
    var total = 0
    for (i, spec) in specs.enumerated() {
        var weights = 0
        switch spec {
        case let .dense(inputs, outputs, _): weights = inputs * outputs  // each at most 2^16: no overflow
        case let .conv2d(inC, outC, k, stride, _, _):
            guard k <= Limits.kernel, stride <= Limits.kernel else { return "layer \(i): kernel or stride over \(Limits.kernel)" }
            weights = inC * outC * k * k
        case let .maxPool2d(k, stride):
            guard k <= Limits.kernel, stride <= Limits.kernel else { return "layer \(i): kernel or stride over \(Limits.kernel)" }
        default: break
        }
        guard weights <= Limits.weightsPerLayer else { return "layer \(i) has \(weights) weights, more than \(Limits.weightsPerLayer)" }
        total += weights
    }
    return total <= Limits.weights ? nil : "\(total) weights, more than \(Limits.weights)"
}

/// Sets the calibration temperature the model file gives (its `temperature`); refuses a value
/// that is not a number in (0, 1000], as native loading does. Returns 0, or -1 on a refusal.
@_cdecl("digits_model_set_temperature")
public func digits_model_set_temperature(_ handle: Int32, _ temperature: Float) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    guard temperature.isFinite, temperature > 0, temperature <= 1000 else {
        return fail("temperature \(temperature) is not a number in (0, 1000]")
    }
    box.temperature = temperature
    return 0
}

@_cdecl("digits_model_free")
public func digits_model_free(_ handle: Int32) { models.remove(handle) }

// MARK: - Shapes and parameters

/// Values in one input sample (784 for MNIST).
@_cdecl("digits_model_input_size")
public func digits_model_input_size(_ handle: Int32) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    return Int32(box.model.inputShape.reduce(1, *))
}

@_cdecl("digits_model_output_size")
public func digits_model_output_size(_ handle: Int32) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    return Int32(box.model.outputShape.reduce(1, *))
}

@_cdecl("digits_model_layer_count")
public func digits_model_layer_count(_ handle: Int32) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    return Int32(box.model.layers.count)
}

/// Axis `axis` of one sample's output of layer `layer` (0 past the last axis).
@_cdecl("digits_model_layer_shape")
public func digits_model_layer_shape(_ handle: Int32, _ layer: Int32, _ axis: Int32) -> Int32 {
    guard let box = models[handle], layer >= 0, Int(layer) < box.model.layers.count else { return fail("no such layer") }
    var shape = box.model.inputShape
    for l in box.model.layers[0...Int(layer)] { shape = (try? l.outputShape(for: shape)) ?? [] }
    return axis >= 0 && Int(axis) < shape.count ? Int32(shape[Int(axis)]) : 0
}

nonisolated(unsafe) var textBytes: [UInt8] = []

/// A layer's summary ("Dense(784 → 256, relu)") as UTF-8 at `digits_text_pointer`; returns its length.
@_cdecl("digits_model_layer_summary")
public func digits_model_layer_summary(_ handle: Int32, _ layer: Int32) -> Int32 {
    guard let box = models[handle], layer >= 0, Int(layer) < box.model.layers.count else { return fail("no such layer") }
    textBytes = Array(box.model.layers[Int(layer)].summary.utf8)
    return Int32(textBytes.count)
}

@_cdecl("digits_text_pointer")
public func digits_text_pointer() -> UnsafePointer<UInt8>? { textBytes.withUnsafeBufferPointer { $0.baseAddress } }

@_cdecl("digits_model_parameter_count")
public func digits_model_parameter_count(_ handle: Int32) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    return Int32(box.model.parameters.count)
}

func parameter(_ handle: Int32, _ index: Int32) -> Parameter? {
    guard let box = models[handle], index >= 0, Int(index) < box.model.parameters.count else { return nil }
    return box.model.parameters[Int(index)]
}

/// The parameter's name ("layers.0.weight", as in model files) at `digits_text_pointer`; returns its length.
@_cdecl("digits_model_parameter_name")
public func digits_model_parameter_name(_ handle: Int32, _ index: Int32) -> Int32 {
    guard let p = parameter(handle, index) else { return fail("no such parameter") }
    textBytes = Array(p.name.utf8)
    return Int32(textBytes.count)
}

/// Axis `axis` of the parameter's shape (0 past the last axis).
@_cdecl("digits_model_parameter_shape")
public func digits_model_parameter_shape(_ handle: Int32, _ index: Int32, _ axis: Int32) -> Int32 {
    guard let p = parameter(handle, index) else { return fail("no such parameter") }
    return axis >= 0 && Int(axis) < p.value.shape.count ? Int32(p.value.shape[Int(axis)]) : 0
}

/// Where the parameter's values are (Float32, `digits_model_parameter_size` of them): the glue
/// copies a model file's tensor there, or reads it to save one.
@_cdecl("digits_model_parameter_data")
public func digits_model_parameter_data(_ handle: Int32, _ index: Int32) -> UnsafeMutablePointer<Float>? {
    parameter(handle, index)?.value.data
}

@_cdecl("digits_model_parameter_size")
public func digits_model_parameter_size(_ handle: Int32, _ index: Int32) -> Int32 {
    guard let p = parameter(handle, index) else { return fail("no such parameter") }
    return Int32(p.value.count)
}

/// After the glue has copied values in: checks every one is finite. 1, or 0 naming the tensor.
@_cdecl("digits_model_check_finite")
public func digits_model_check_finite(_ handle: Int32) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)", 0) }
    for p in box.model.parameters {
        for i in 0..<p.value.count where !p.value.data[i].isFinite {
            return fail("tensor \(p.name) holds a value that is not finite", 0)
        }
    }
    return 1
}

// MARK: - Reading

/// Reads `count` samples of bytes at `pixels` (each `digits_model_input_size` bytes) and writes
/// each one's class probabilities at `probabilities` (`digits_model_output_size` each), as
/// `digits predict` computes them. Returns the first sample's most probable class.
@_cdecl("digits_read_batch")
public func digits_read_batch(_ handle: Int32, _ pixels: UnsafePointer<UInt8>?, _ count: Int32,
                              _ probabilities: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let box = models[handle] else { return fail("no model \(handle)") }
    guard let pixels, let probabilities, count >= 1, count <= 1 << 16 else { return fail("read: bad arguments") }
    let model = box.model
    let size = model.inputShape.reduce(1, *), k = model.outputShape.reduce(1, *)
    let x = count == 1 ? box.single : Tensor(shape: [Int(count)] + model.inputShape)
    let scale = box.transform.scale, offset = box.transform.offset
    for i in 0..<(Int(count) * size) { x.data[i] = Float(pixels[i]) * scale + offset }
    let h: Tensor
    if count == 1 {
        // Layer by layer, keeping each one's output for the page (unfused: the same values).
        var t = x
        var outputs: [Tensor] = []
        for layer in model.layers {
            t = layer.forward(t, training: false)
            outputs.append(t)
        }
        box.layerOutputs = outputs
        h = t
    } else {
        h = model.forward(x, training: false)
    }
    for b in 0..<Int(count) {
        Probabilities.of(h.data + b * k, k, last: model.layers.last?.spec, temperature: box.temperature,
                         into: probabilities + b * k)
    }
    return Int32(argmax(probabilities, k))
}

/// Layer `layer`'s output for the last single-sample read: where its values are.
@_cdecl("digits_layer_output")
public func digits_layer_output(_ handle: Int32, _ layer: Int32) -> UnsafeMutablePointer<Float>? {
    guard let box = models[handle], layer >= 0, Int(layer) < box.layerOutputs.count else { return nil }
    return box.layerOutputs[Int(layer)].data
}

/// How many values `digits_layer_output` holds for the layer (0 before any read).
@_cdecl("digits_layer_output_size")
public func digits_layer_output_size(_ handle: Int32, _ layer: Int32) -> Int32 {
    guard let box = models[handle], layer >= 0, Int(layer) < box.layerOutputs.count else { return 0 }
    return Int32(box.layerOutputs[Int(layer)].count)
}

/// Class probabilities from a network's outputs, as `digits predict` computes them
/// (DigitsApp's `TrainedModel.probabilities`, which this module cannot import): softmax of raw
/// scores; a softmax layer's output as it is; sigmoid outputs normalised to sum to 1.
enum Probabilities {
    static func of(_ out: UnsafePointer<Float>, _ k: Int, last: LayerSpec?, temperature: Float = 1,
                   into p: UnsafeMutablePointer<Float>) {
        if case .softmax? = last {
            for i in 0..<k { p[i] = out[i] }
        } else if case .activation(.sigmoid)? = last {
            var sum: Float = 0
            for i in 0..<k { sum += out[i] }
            for i in 0..<k { p[i] = out[i] / max(sum, .leastNormalMagnitude) }
        } else if temperature == 1 {
            Softmax.row(out, p, k)
        } else {
            // Calibrated: softmax of the scores divided by the temperature (p holds them first).
            for i in 0..<k { p[i] = out[i] / temperature }
            Softmax.row(UnsafePointer(p), p, k)
        }
    }
}
