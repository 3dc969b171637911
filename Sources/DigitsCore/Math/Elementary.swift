#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The elementary functions the core needs: exp, log, tanh, pow, cos and sin.
///
/// Natively they are the C library's (`expf`, `logf`, `tanhf`, `pow`, `cos`, `sin`), the same
/// functions Foundation would call, so results are the same bits as ever. Where there is no C
/// library (Embedded Swift for WebAssembly), `PortableMath` computes them in plain Swift, to
/// within a few units in the last place.
public enum Math {
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    /// e^x
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    /// The natural logarithm.
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    /// The hyperbolic tangent.
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    /// The cosine of x radians.
    @inlinable public static func cos(_ x: Float) -> Float { cosf(x) }
    /// The sine of x radians.
    @inlinable public static func sin(_ x: Float) -> Float { sinf(x) }
    /// The natural logarithm.
    @inlinable public static func log(_ x: Double) -> Double { _log(x) }
    /// x^y
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { _pow(x, y) }
    /// The cosine of x radians.
    @inlinable public static func cos(_ x: Double) -> Double { _cos(x) }
    /// The sine of x radians.
    @inlinable public static func sin(_ x: Double) -> Double { _sin(x) }
    #else
    public static func exp(_ x: Float) -> Float { Float(PortableMath.exp(Double(x))) }
    public static func log(_ x: Float) -> Float { Float(PortableMath.log(Double(x))) }
    public static func tanh(_ x: Float) -> Float { Float(PortableMath.tanh(Double(x))) }
    public static func cos(_ x: Float) -> Float { Float(PortableMath.cos(Double(x))) }
    public static func sin(_ x: Float) -> Float { Float(PortableMath.sin(Double(x))) }
    public static func log(_ x: Double) -> Double { PortableMath.log(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { PortableMath.pow(x, y) }
    public static func cos(_ x: Double) -> Double { PortableMath.cos(x) }
    public static func sin(_ x: Double) -> Double { PortableMath.sin(x) }
    #endif
}

#if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
// The C library's double-precision functions, under names that the `Math` members above do not
// shadow.
@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
@usableFromInline func _sin(_ x: Double) -> Double { sin(x) }
#endif

/// exp, log, tanh, pow, cos and sin in plain Swift, for targets without a C library. Each
/// reduces its argument to a small interval and sums a short series there.
public enum PortableMath {
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458

    /// e^x: x = k·ln 2 + r with |r| ≤ ln 2 / 2, then e^r by its Taylor series and 2^k by the
    /// exponent bits.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x / ln2).rounded()
        let r = x - k * ln2
        var term = 1.0, sum = 1.0
        for i in 1...18 {
            term *= r / Double(i)
            sum += term
        }
        return scale(sum, Int(k))
    }

    /// sum · 2^k, in two steps so that neither factor overflows before the product does.
    static func scale(_ value: Double, _ k: Int) -> Double {
        var v = value, k = k
        while k > 1000 { v *= Double(sign: .plus, exponent: 1000, significand: 1); k -= 1000 }
        while k < -1000 { v *= Double(sign: .plus, exponent: -1000, significand: 1); k += 1000 }
        return v * Double(sign: .plus, exponent: k, significand: 1)
    }

    /// ln x: x = m·2^e with m in [√½, √2), then ln m = 2·atanh((m − 1)/(m + 1)) by its series.
    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var e = Int(x.exponent)
        var m = x.significand                      // [1, 2)
        if m > 1.414_213_562_373_095 { m /= 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var term = s, sum = 0.0
        var i = 1
        while i < 60 {
            sum += term / Double(i)
            term *= s2
            i += 2
        }
        return 2 * sum + Double(e) * ln2
    }

    /// tanh x = (1 − e^(−2|x|)) / (1 + e^(−2|x|)), with x's sign.
    public static func tanh(_ x: Double) -> Double {
        if x.isNaN { return x }
        let e = exp(-2 * abs(x))
        let t = (1 - e) / (1 + e)
        return x < 0 ? -t : t
    }

    /// x^y for x > 0 as e^(y·ln x); integer powers of other x by repeated squaring.
    public static func pow(_ x: Double, _ y: Double) -> Double {
        if y == 0 { return 1 }
        if x > 0 { return exp(y * log(x)) }
        guard y == y.rounded(), abs(y) < 9_007_199_254_740_992 else { return x == 0 ? (y > 0 ? 0 : .infinity) : .nan }
        var base = y < 0 ? 1 / x : x, n = Int(abs(y)), result = 1.0
        while n > 0 {
            if n & 1 == 1 { result *= base }
            base *= base
            n >>= 1
        }
        return result
    }

    /// cos x: x reduced to [−π/4, π/4] around a multiple of π/2, then the sine or cosine series.
    public static func cos(_ x: Double) -> Double { sinCos(x, quarterTurns: 1) }

    /// sin x
    public static func sin(_ x: Double) -> Double { sinCos(x, quarterTurns: 0) }

    /// sin(x + quarterTurns·π/2).
    static func sinCos(_ x: Double, quarterTurns: Int) -> Double {
        if !x.isFinite { return .nan }
        let halfPi = Double.pi / 2
        let q = (x / halfPi).rounded()
        let r = x - q * halfPi
        let turn = ((Int(q) + quarterTurns) % 4 + 4) % 4
        let r2 = r * r
        var sinSum = r, cosSum = 1.0, sinTerm = r, cosTerm = 1.0
        for i in 1...12 {
            sinTerm *= -r2 / Double((2 * i) * (2 * i + 1))
            cosTerm *= -r2 / Double((2 * i - 1) * (2 * i))
            sinSum += sinTerm
            cosSum += cosTerm
        }
        switch turn {
        case 0: return sinSum
        case 1: return cosSum
        case 2: return -sinSum
        default: return -cosSum
        }
    }
}
