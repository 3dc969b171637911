/// An element-wise activation function, with its derivative written beside it.
///
/// Each function's formula is written once (`sigmoid`, `tanh`, `relu`, `leakyReLU` below), for
/// one value or for eight at a time (`ActivationLanes`), so that the matrix multiply's vector
/// epilogue and the plain loops compute the same thing. It is used as a layer of its own
/// (`ActivationLayer`), and `Sequential` fuses it into the multiply of a dense layer or a
/// convolution before it. Every derivative is written in terms of the *output* y, so the
/// backward pass needs only what the forward pass kept.
public enum Activation: Sendable, Equatable {
    case sigmoid
    case tanh
    case relu
    /// max(x, alpha·x) for 0 < alpha < 1: a small slope for negative inputs.
    case leakyReLU(alpha: Float)

    /// A short name: "sigmoid", "tanh", "relu", "leaky_relu(0.2)".
    public var name: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyReLU(let a): "leaky_relu(\(FloatText.shortest(a)))"
        }
    }

    // MARK: - The formulas

    /// The formulas, each written once, for one value or a vector of them.
    public enum Formula {
        /// σ(x) = 1 / (1 + e^-x)
        @inlinable @inline(__always)
        public static func sigmoid<V: ActivationLanes>(_ x: V) -> V { x.mapLanes { 1 / (1 + Math.exp(-$0)) } }

        /// tanh(x)
        @inlinable @inline(__always)
        public static func tanh<V: ActivationLanes>(_ x: V) -> V { x.mapLanes { Math.tanh($0) } }

        /// max(x, 0): 0 where x < 0, x elsewhere.
        @inlinable @inline(__always)
        public static func relu<V: ActivationLanes>(_ x: V) -> V { x.replacingNegatives(with: .zeroLanes) }

        /// alpha·x where x < 0, x elsewhere.
        @inlinable @inline(__always)
        public static func leakyReLU<V: ActivationLanes>(_ x: V, alpha: Float) -> V { x.replacingNegatives(with: x * alpha) }
    }

    /// f(x), for one value or a vector of them.
    @inlinable @inline(__always)
    public func callAsFunction<V: ActivationLanes>(_ x: V) -> V {
        switch self {
        case .sigmoid: Formula.sigmoid(x)
        case .tanh: Formula.tanh(x)
        case .relu: Formula.relu(x)
        case .leakyReLU(let alpha): Formula.leakyReLU(x, alpha: alpha)
        }
    }

    // MARK: - Forward and backward

    /// y = f(x) for n values. `x` and `y` may be the same buffer.
    @inlinable
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        // One loop per function, so that the choice is made once, not per value.
        switch self {
        case .sigmoid: for i in 0..<n { y[i] = Formula.sigmoid(x[i]) }
        case .tanh: for i in 0..<n { y[i] = Formula.tanh(x[i]) }
        case .relu: for i in 0..<n { y[i] = Formula.relu(x[i]) }
        case .leakyReLU(let alpha): for i in 0..<n { y[i] = Formula.leakyReLU(x[i], alpha: alpha) }
        }
    }

    /// dx = dy · f'(x), with f' written in terms of the output y = f(x). `dx` may alias `dy`.
    @inlinable
    public func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .sigmoid:
            // σ' = σ(1 − σ)
            for i in 0..<n { let s = y[i]; dx[i] = dy[i] * s * (1 - s) }
        case .tanh:
            // tanh' = 1 − tanh²
            for i in 0..<n { let t = y[i]; dx[i] = dy[i] * (1 - t * t) }
        case .relu:
            for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
        case .leakyReLU(let alpha):
            // y >= 0 exactly when x >= 0 (alpha > 0), so the output decides the slope.
            for i in 0..<n { dx[i] = y[i] >= 0 ? dy[i] : alpha * dy[i] }
        }
    }
}

/// What an activation's formula needs of its numbers: one `Float`, or a `SIMD8<Float>` of eight
/// handled alike, lane by lane.
public protocol ActivationLanes {
    /// Zero in every lane.
    static var zeroLanes: Self { get }
    /// Every lane multiplied by `rhs`.
    static func * (lhs: Self, rhs: Float) -> Self
    /// `other`'s lane where this lane is below zero, this lane elsewhere (NaN and −0 stay).
    func replacingNegatives(with other: Self) -> Self
    /// `f` applied to every lane.
    func mapLanes(_ f: (Float) -> Float) -> Self
}

extension Float: ActivationLanes {
    @inlinable public static var zeroLanes: Float { 0 }
    @inlinable @inline(__always)
    public func replacingNegatives(with other: Float) -> Float { self < 0 ? other : self }
    @inlinable @inline(__always)
    public func mapLanes(_ f: (Float) -> Float) -> Float { f(self) }
}

extension SIMD8: ActivationLanes where Scalar == Float {
    @inlinable public static var zeroLanes: SIMD8<Float> { SIMD8() }
    @inlinable @inline(__always)
    public func replacingNegatives(with other: SIMD8<Float>) -> SIMD8<Float> {
        var r = self
        r.replace(with: other, where: self .< 0)
        return r
    }
    @inlinable @inline(__always)
    public func mapLanes(_ f: (Float) -> Float) -> SIMD8<Float> {
        var r = self
        for i in 0..<8 { r[i] = f(self[i]) }
        return r
    }
}
