/// What an optimiser remembers between steps, as values to save and restore: its step count
/// and its per-parameter buffers (momentum, Adam's moments), each named
/// `PARAMETER.KIND` (`layers.0.weight.velocity`, `layers.0.weight.m`).
///
/// A parameter with no buffer yet (the optimiser has not stepped) has no entry.
public struct OptimizerState {
    /// Updates taken (Adam's bias correction counts them; SGD keeps it for the record).
    public var steps: Int
    /// The buffers by name, shaped like their parameters.
    public var tensors: [String: Tensor]

    public init(steps: Int, tensors: [String: Tensor]) {
        self.steps = steps
        self.tensors = tensors
    }
}

/// An optimiser state that does not fit the network it is restored into.
public struct OptimizerStateError: Error, Equatable, CustomStringConvertible {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { "optimiser state: \(problem)" }
}

extension OptimizerState {
    /// A copy of `buffer`, for a state that must not change as training goes on.
    static func copy(_ buffer: Tensor) -> Tensor {
        let t = Tensor(shape: buffer.shape)
        t.data.update(from: buffer.data, count: buffer.count)
        return t
    }

    /// Checks that the state names only buffers of `kinds` for trainable `parameters`, shaped
    /// like them, and holding finite numbers.
    func validate(for parameters: [Parameter], kinds: [String]) throws(OptimizerStateError) {
        guard steps >= 0 else { throw OptimizerStateError("negative step count \(steps)") }
        var shapes: [String: [Int]] = [:]
        for p in parameters where p.trainable {
            for k in kinds { shapes["\(p.name).\(k)"] = p.value.shape }
        }
        for (name, t) in tensors {
            guard let shape = shapes[name] else { throw OptimizerStateError("\(name) names no buffer of this optimiser and network") }
            guard shape == t.shape else { throw OptimizerStateError("\(name) has shape \(t.shape), expected \(shape)") }
            for i in 0..<t.count where !t.data[i].isFinite { throw OptimizerStateError("\(name) holds a value that is not finite") }
        }
    }
}
