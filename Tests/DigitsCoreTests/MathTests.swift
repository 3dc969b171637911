import DigitsCore
import Foundation
import Testing

/// The elementary functions: natively the C library's (the same bits as Foundation's), and the
/// plain-Swift versions used where there is no C library (Embedded Swift for WebAssembly).
@Suite struct MathTests {
    static let points: [Double] = [-30, -7.5, -2, -1, -0.3, -1e-4, 0, 1e-6, 0.1, 0.5, 0.7, 1, 1.5, 2, 3.14159, 10, 42, 88]

    @Test("Math is the C library, bit for bit")
    func native() {
        for x in Self.points {
            let f = Float(x)
            #expect(Math.exp(f).bitPattern == Foundation.exp(f).bitPattern)
            #expect(Math.tanh(f).bitPattern == Foundation.tanh(f).bitPattern)
            #expect(Math.cos(f).bitPattern == Foundation.cos(f).bitPattern)
            #expect(Math.sin(f).bitPattern == Foundation.sin(f).bitPattern)
            #expect(Math.cos(x).bitPattern == Foundation.cos(x).bitPattern)
            if x > 0 {
                #expect(Math.log(f).bitPattern == Foundation.log(f).bitPattern)
                #expect(Math.log(x).bitPattern == Foundation.log(x).bitPattern)
                #expect(Math.pow(x, 0.37).bitPattern == Foundation.pow(x, 0.37).bitPattern)
            }
        }
    }

    @Test("PortableMath agrees with the C library to within 1e-13 relative")
    func portable() {
        func close(_ a: Double, _ b: Double, _ what: String) {
            #expect(abs(a - b) <= 1e-13 * max(1, abs(b)), "\(what): \(a), expected \(b)")
        }
        for x in Self.points {
            close(PortableMath.exp(x), Foundation.exp(x), "exp(\(x))")
            close(PortableMath.tanh(x), Foundation.tanh(x), "tanh(\(x))")
            close(PortableMath.cos(x), Foundation.cos(x), "cos(\(x))")
            close(PortableMath.sin(x), Foundation.sin(x), "sin(\(x))")
            close(PortableMath.pow(0.999, x), Foundation.pow(0.999, x), "pow(0.999, \(x))")
            if x > 0 { close(PortableMath.log(x), Foundation.log(x), "log(\(x))") }
        }
        close(PortableMath.pow(-2, 3), -8, "pow(-2, 3)")
        #expect(PortableMath.exp(1000) == .infinity)
        #expect(PortableMath.exp(-1000) == 0)
        #expect(PortableMath.log(0) == -.infinity)
        #expect(PortableMath.log(-1).isNaN)
    }
}
