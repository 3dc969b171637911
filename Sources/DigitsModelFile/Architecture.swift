import DigitsCore
import Foundation

/// What a model file holds besides the weights: the input shape and scaling, and the layers.
/// Stored as JSON in the file's metadata:
///
///     {"inputShape":[784],"inputTransform":{"offset":0,"scale":0.003921569},
///      "layers":[{"dense":{"bias":true,"inputs":784,"outputs":256}},{"activation":{"relu":{}}}, …]}
///
/// Files written before the layers were made textbook ones (format version 1) describe fused
/// layers, `dense{activation:…, biasGradient:…}`, `conv2d{activation:…}` and
/// `softmax{gradient:…}`; `init(json:)` reads them as the layers they stand for (see
/// `LegacyLayers`), remembering which stored layer each came from, so that their tensors are
/// found under their old names.
public struct Architecture: Equatable, Sendable {
    /// The shape of one input sample.
    public var inputShape: [Int]
    /// How input bytes become the network's input.
    public var inputTransform: InputTransform
    /// The layers, in order.
    public var layers: [LayerSpec]
    /// For each layer, the index of the stored layer whose tensors it holds: its own index,
    /// except in a version 1 file, where one stored layer may stand for two.
    public var storedIndex: [Int]

    public init(inputShape: [Int], inputTransform: InputTransform, layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.inputTransform = inputTransform
        self.layers = layers
        self.storedIndex = Array(layers.indices)
    }

    /// A message saying what is wrong with the JSON.
    public struct Invalid: Error, Equatable {
        public var reason: String
    }

    // MARK: - Writing

    /// The JSON text, keys sorted.
    public var json: String {
        let object: [String: Any] = [
            "inputShape": inputShape,
            "inputTransform": ["scale": Self.number(inputTransform.scale), "offset": Self.number(inputTransform.offset)],
            "layers": layers.map(Self.object(for:)),
        ]
        // Plain arrays, dictionaries, numbers and strings always serialise.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A Float as the shortest decimal that reads back as it ("0.2", not 0.20000000298…).
    static func number(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }

    static func object(for activation: Activation) -> [String: Any] {
        switch activation {
        case .sigmoid: ["sigmoid": [String: Any]()]
        case .tanh: ["tanh": [String: Any]()]
        case .relu: ["relu": [String: Any]()]
        case .leakyReLU(let alpha): ["leakyReLU": ["alpha": number(alpha)]]
        }
    }

    static func object(for spec: LayerSpec) -> [String: Any] {
        switch spec {
        case let .dense(inputs, outputs, bias):
            ["dense": ["inputs": inputs, "outputs": outputs, "bias": bias]]
        case .activation(let a):
            ["activation": object(for: a)]
        case .softmax:
            ["softmax": [String: Any]()]
        case let .conv2d(inC, outC, k, stride, padding, bias):
            ["conv2d": ["inChannels": inC, "outChannels": outC, "kernelSize": k, "stride": stride,
                        "padding": padding, "bias": bias]]
        case let .maxPool2d(k, stride):
            ["maxPool2d": ["kernelSize": k, "stride": stride]]
        case .flatten:
            ["flatten": [String: Any]()]
        case .dropout(let rate):
            ["dropout": ["rate": number(rate)]]
        case let .batchNorm(channels, momentum, epsilon):
            ["batchNorm": ["channels": channels, "momentum": number(momentum), "epsilon": number(epsilon)]]
        case .globalAveragePool:
            ["globalAveragePool": [String: Any]()]
        case let .custom(name, sizes):
            ["custom": ["name": name, "sizes": sizes]]
        }
    }

    // MARK: - Reading

    /// Reads the JSON of `json`, in the current form or version 1's.
    public init(json: String) throws(Invalid) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw Invalid(reason: "not a JSON object")
        }
        guard let shape = object["inputShape"] as? [Int], !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw Invalid(reason: "input shape is missing or not a list of positive sizes")
        }
        guard let transform = object["inputTransform"] as? [String: Any],
              let scale = Self.float(transform["scale"]), let offset = Self.float(transform["offset"]) else {
            throw Invalid(reason: "input transform is missing or not two numbers")
        }
        guard let entries = object["layers"] as? [Any] else { throw Invalid(reason: "no list of layers") }
        var layers: [LayerSpec] = [], stored: [Int] = []
        for (index, entry) in entries.enumerated() {
            for spec in try Self.specs(from: entry, index: index) {
                layers.append(spec)
                stored.append(index)
            }
        }
        self.inputShape = shape
        self.inputTransform = InputTransform(scale: scale, offset: offset)
        self.layers = layers
        self.storedIndex = stored
    }

    static func float(_ value: Any?) -> Float? {
        if let d = value as? Double { return Float(d) }
        if let i = value as? Int { return Float(i) }
        return nil
    }

    /// The layer (or, for a version 1 layer with something fused, layers) an entry stands for.
    static func specs(from entry: Any, index: Int) throws(Invalid) -> [LayerSpec] {
        guard let wrapper = entry as? [String: Any], wrapper.count == 1, let only = wrapper.first,
              let fields = only.value as? [String: Any] else {
            throw Invalid(reason: "layer \(index) is not of the form {\"kind\": {…}}")
        }
        let kind = only.key
        func int(_ key: String) throws(Invalid) -> Int {
            guard let v = fields[key] as? Int else { throw Invalid(reason: "layer \(index) (\(kind)) has no integer \(key)") }
            return v
        }
        func bool(_ key: String) throws(Invalid) -> Bool {
            guard let v = fields[key] as? Bool else { throw Invalid(reason: "layer \(index) (\(kind)) has no boolean \(key)") }
            return v
        }
        func number(_ key: String) throws(Invalid) -> Float {
            guard let v = float(fields[key]) else { throw Invalid(reason: "layer \(index) (\(kind)) has no number \(key)") }
            return v
        }
        func fusedActivation() throws(Invalid) -> [LayerSpec] {
            guard let a = fields["activation"] else { return [] }
            return [.activation(try activation(from: a, index: index))]
        }
        switch kind {
        case "dense":
            let inputs = try int("inputs"), outputs = try int("outputs"), bias = try bool("bias")
            if let rule = fields["biasGradient"] as? String, rule == "scalar_mean", bias {
                // Version 1's `biasGradient: scalar_mean`: the bias becomes a layer of its own.
                return [.dense(inputs: inputs, outputs: outputs, bias: false),
                        .custom(name: LegacyLayers.biasWithMeanGradient, sizes: [inputs, outputs])]
                    + (try fusedActivation())
            }
            return [.dense(inputs: inputs, outputs: outputs, bias: bias)] + (try fusedActivation())
        case "activation":
            // Version 1 wrapped the activation as {"_0": …}.
            return [.activation(try activation(from: fields["_0"] ?? fields, index: index))]
        case "softmax":
            if let rule = fields["gradient"] as? String, rule == "diagonal" {
                return [.custom(name: LegacyLayers.softmaxWithDiagonalGradient, sizes: [])]
            }
            return [.softmax]
        case "conv2d":
            return [.conv2d(inChannels: try int("inChannels"), outChannels: try int("outChannels"),
                            kernelSize: try int("kernelSize"), stride: try int("stride"),
                            padding: try int("padding"), bias: try bool("bias"))] + (try fusedActivation())
        case "maxPool2d":
            return [.maxPool2d(kernelSize: try int("kernelSize"), stride: try int("stride"))]
        case "flatten":
            return [.flatten]
        case "dropout":
            return [.dropout(rate: try number("rate"))]
        case "batchNorm":
            return [.batchNorm(channels: try int("channels"), momentum: try number("momentum"), epsilon: try number("epsilon"))]
        case "globalAveragePool":
            return [.globalAveragePool]
        case "custom":
            guard let name = fields["name"] as? String, let sizes = fields["sizes"] as? [Int] else {
                throw Invalid(reason: "layer \(index) (custom) needs a name and sizes")
            }
            return [.custom(name: name, sizes: sizes)]
        default:
            throw Invalid(reason: "layer \(index) is of an unknown kind \"\(kind)\"")
        }
    }

    static func activation(from value: Any, index: Int) throws(Invalid) -> Activation {
        guard let wrapper = value as? [String: Any], wrapper.count == 1, let only = wrapper.first else {
            throw Invalid(reason: "layer \(index) has no valid activation")
        }
        let name = only.key, body = only.value
        switch name {
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "relu": return .relu
        case "leakyReLU":
            guard let fields = body as? [String: Any], let alpha = float(fields["alpha"]) else {
                throw Invalid(reason: "layer \(index): leakyReLU needs an alpha")
            }
            return .leakyReLU(alpha: alpha)
        default:
            throw Invalid(reason: "layer \(index) has an unknown activation \"\(name)\"")
        }
    }
}

/// The custom layers that version 1 files describe as options of core layers: the tutorial
/// quirks, which now live in DigitsApp as layers of their own under these names.
public enum LegacyLayers {
    /// A bias whose every value moves by the mean of the whole batch's gradient (version 1's
    /// `dense{biasGradient: "scalar_mean"}`); sizes `[inputs, outputs]` of the dense layer.
    public static let biasWithMeanGradient = "bias_with_mean_gradient"
    /// Softmax differentiated through its Jacobian's diagonal only (version 1's
    /// `softmax{gradient: "diagonal"}`); no sizes.
    public static let softmaxWithDiagonalGradient = "softmax_with_diagonal_gradient"
}
