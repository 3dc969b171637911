/// The optimisers' element-wise updates, eight lanes at a time, each beside its plain reference.
///
/// Every update is a pass over a parameter's memory once a step. Written as scalar loops over
/// pointers that may alias, the compiler keeps them scalar; here the vector form does the same
/// operations in the same order (multiplies and adds, never fused), so each lane's result is bit
/// for bit the reference's. Tests check that they agree.
///
/// ## Running averages flushed to zero
/// A running average (momentum's velocity, Adam's moments) of a weight whose gradient is zero
/// step after step (the weights of pixels that are rarely ink) decays geometrically, down through
/// the subnormal range below 2⁻¹²⁶, where multiplies are far slower on x86 (BENCHMARKS.md, "the
/// dense path"). So an average smaller in magnitude than `flushBelow` (2⁻¹⁰⁰) is set to zero.
/// With momentum its effect on a weight is at most lr · 2⁻¹⁰⁰ a step, far below a float's
/// resolution of any weight that is not itself tiny. With Adam the step is m / (√v + ε): a
/// flushed v changes it by at most about lr · |m| / ε, which is why ε must be positive (the
/// trainer refuses ε ≤ 0).
enum DenseUpdate {
    /// Running averages smaller in magnitude than this are set to zero.
    static let flushBelow: Float = 0x1p-100

    /// `x`, or zero when |x| < `flushBelow`.
    @inline(__always)
    static func flushed(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: 0, where: (x .< flushBelow) .& (x .> -flushBelow))
    }

    /// `x`, or zero when |x| < `flushBelow` (the plain form).
    @inline(__always)
    static func flushed(_ x: Float) -> Float { x < flushBelow && x > -flushBelow ? 0 : x }

    // MARK: - Plain SGD

    /// w −= lr · g over `range`.
    @inline(__always)
    static func sgd(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, lr: Float, _ range: Range<Int>) {
        var i = range.lowerBound
        let end = range.upperBound
        while i &+ 8 <= end {
            store8(load8(w + i) - lr * load8(g + i), w + i)
            i &+= 8
        }
        while i < end { w[i] -= lr * g[i]; i &+= 1 }
    }

    static func sgdReference(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, lr: Float, _ range: Range<Int>) {
        for i in range { w[i] -= lr * g[i] }
    }

    // MARK: - Momentum (classical and Nesterov)

    /// v = μ·v + g; w −= lr · v (classical), or w −= lr · (g + μ·v) (Nesterov), over `range`.
    @inline(__always)
    static func momentum(w: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                         mu: Float, lr: Float, nesterov: Bool, _ range: Range<Int>) {
        var i = range.lowerBound
        let end = range.upperBound
        if nesterov {
            while i &+ 8 <= end {
                let gi = load8(g + i)
                let vi = flushed(mu * load8(v + i) + gi)
                store8(vi, v + i)
                store8(load8(w + i) - lr * (gi + mu * vi), w + i)
                i &+= 8
            }
            while i < end { let gi = g[i]; v[i] = flushed(mu * v[i] + gi); w[i] -= lr * (gi + mu * v[i]); i &+= 1 }
        } else {
            while i &+ 8 <= end {
                let vi = flushed(mu * load8(v + i) + load8(g + i))
                store8(vi, v + i)
                store8(load8(w + i) - lr * vi, w + i)
                i &+= 8
            }
            while i < end { v[i] = flushed(mu * v[i] + g[i]); w[i] -= lr * v[i]; i &+= 1 }
        }
    }

    static func momentumReference(w: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                                  mu: Float, lr: Float, nesterov: Bool, _ range: Range<Int>) {
        if nesterov {
            for i in range {
                let gi = g[i]
                v[i] = mu * v[i] + gi
                if abs(v[i]) < flushBelow { v[i] = 0 }
                w[i] -= lr * (gi + mu * v[i])
            }
        } else {
            for i in range {
                v[i] = mu * v[i] + g[i]
                if abs(v[i]) < flushBelow { v[i] = 0 }
                w[i] -= lr * v[i]
            }
        }
    }

    // MARK: - Adam

    /// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g·g; w −= stepSize · m / (√(v · invC2) + ε) + decay · w,
    /// over `range`.
    @inline(__always)
    static func adam(w: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                     g: UnsafePointer<Float>, beta1: Float, beta2: Float, epsilon: Float,
                     stepSize: Float, invC2: Float, decay: Float, _ range: Range<Int>) {
        var i = range.lowerBound
        let end = range.upperBound
        let c1 = 1 - beta1, c2 = 1 - beta2
        while i &+ 8 <= end {
            let gi = load8(g + i), wi = load8(w + i)
            let mi = flushed(beta1 * load8(m + i) + c1 * gi)
            let vi = flushed(beta2 * load8(v + i) + c2 * gi * gi)
            store8(mi, m + i); store8(vi, v + i)
            store8(wi - (stepSize * mi / (squareRootOfNonNegative(vi * invC2) + epsilon) + decay * wi), w + i)
            i &+= 8
        }
        adamReference(w: w, m: m, v: v, g: g, beta1: beta1, beta2: beta2, epsilon: epsilon,
                      stepSize: stepSize, invC2: invC2, decay: decay, i..<end)
    }

    static func adamReference(w: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                              g: UnsafePointer<Float>, beta1: Float, beta2: Float, epsilon: Float,
                              stepSize: Float, invC2: Float, decay: Float, _ range: Range<Int>) {
        for i in range {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            if abs(m[i]) < flushBelow { m[i] = 0 }
            if abs(v[i]) < flushBelow { v[i] = 0 }
            w[i] -= stepSize * m[i] / ((v[i] * invC2).squareRoot() + epsilon) + decay * w[i]
        }
    }
}
