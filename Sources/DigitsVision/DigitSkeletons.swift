import Foundation

// MARK: - DigitSkeletons

/// Pen paths for the digits 0–9, a few styles each, as polylines in a box about 0.6 wide and
/// 1 tall (x right, y down). `SyntheticHandwriting` jitters, slants, rotates and draws them.
enum DigitSkeletons {
    typealias Point = SIMD2<Double>
    typealias Stroke = [Point]

    /// The styles of `digit`, each a list of strokes, with a relative weight.
    static func styles(of digit: Int) -> [(weight: Double, strokes: [Stroke])] {
        switch digit {
        case 0:
            return [
                (3, [arc(0.30, 0.50, 0.27, 0.48, from: -95, to: 268)]),
                (1, [arc(0.30, 0.50, 0.22, 0.48, from: -80, to: 275)]),
            ]
        case 1:
            return [
                (6, [line(P(0.32, 0.0), P(0.28, 1.0))]),
                (3, [line(P(0.12, 0.20), P(0.33, 0.0)) + line(P(0.33, 0.0), P(0.30, 1.0)).dropFirst()]),
                (1, [line(P(0.14, 0.18), P(0.34, 0.0)) + line(P(0.34, 0.0), P(0.32, 1.0)).dropFirst(),
                     line(P(0.10, 1.0), P(0.54, 1.0))]),
            ]
        case 2:
            let top = bezier(P(0.05, 0.24), P(0.08, -0.04), P(0.56, -0.06), P(0.53, 0.28))
            let down = bezier(P(0.53, 0.28), P(0.50, 0.52), P(0.20, 0.72), P(0.03, 0.98))
            let base = line(P(0.03, 0.98), P(0.60, 0.96))
            let loopBase = bezier(P(0.03, 0.98), P(0.15, 0.82), P(0.28, 0.90), P(0.22, 0.98))
                + line(P(0.22, 0.98), P(0.60, 0.95)).dropFirst()
            return [
                (3, [join(top, down, base)]),
                (1, [join(top, down, loopBase)]),
            ]
        case 3:
            let upper = bezier(P(0.06, 0.12), P(0.30, -0.08), P(0.64, 0.08), P(0.46, 0.35))
            let middle = bezier(P(0.46, 0.35), P(0.40, 0.44), P(0.28, 0.47), P(0.20, 0.47))
            let lower = bezier(P(0.20, 0.47), P(0.72, 0.44), P(0.68, 1.06), P(0.04, 0.90))
            return [(1, [join(upper, middle, lower)])]
        case 4:
            return [
                (2, [join(line(P(0.44, 0.0), P(0.02, 0.66)), line(P(0.02, 0.66), P(0.60, 0.66))),
                     line(P(0.44, 0.0), P(0.44, 1.0))]),
                (3, [join(line(P(0.08, 0.0), P(0.04, 0.58)), line(P(0.04, 0.58), P(0.60, 0.56))),
                     line(P(0.46, 0.04), P(0.44, 1.0))]),
            ]
        case 5:
            let bowl = join(bezier(P(0.09, 0.46), P(0.36, 0.30), P(0.70, 0.50), P(0.56, 0.78)),
                            bezier(P(0.56, 0.78), P(0.46, 1.04), P(0.12, 1.02), P(0.03, 0.86)))
            return [
                (2, [join(line(P(0.56, 0.02), P(0.13, 0.02)), line(P(0.13, 0.02), P(0.09, 0.46)), bowl)]),
                (2, [join(line(P(0.14, 0.02), P(0.09, 0.46)), bowl), line(P(0.12, 0.02), P(0.56, 0.0))]),
            ]
        case 6:
            let stem = bezier(P(0.50, 0.0), P(0.20, 0.12), P(0.04, 0.46), P(0.06, 0.72))
            let loop = arc(0.31, 0.72, 0.25, 0.27, from: 180, to: -175)
            return [(1, [join(stem, loop)])]
        case 7:
            return [
                (4, [join(line(P(0.02, 0.03), P(0.60, 0.03)), bezier(P(0.60, 0.03), P(0.45, 0.35), P(0.30, 0.65), P(0.24, 1.0)))]),
                (1, [join(line(P(0.02, 0.12), P(0.06, 0.02)), line(P(0.06, 0.02), P(0.60, 0.04)),
                          line(P(0.60, 0.04), P(0.26, 1.0)))]),
            ]
        case 8:
            return [
                (2, [arc(0.30, 0.25, 0.20, 0.23, from: 0, to: 360), arc(0.30, 0.73, 0.27, 0.26, from: -90, to: 270)]),
                (1, [join(bezier(P(0.50, 0.10), P(0.30, -0.10), P(0.00, 0.10), P(0.30, 0.47)),
                          bezier(P(0.30, 0.47), P(0.70, 0.85), P(0.50, 1.02), P(0.30, 1.0)),
                          bezier(P(0.30, 1.0), P(0.00, 1.0), P(0.00, 0.78), P(0.30, 0.47)),
                          bezier(P(0.30, 0.47), P(0.55, 0.25), P(0.58, 0.10), P(0.50, 0.10)))]),
            ]
        case 9:
            let loop = arc(0.30, 0.27, 0.25, 0.26, from: 0, to: -360)
            return [
                (3, [join(loop, line(P(0.55, 0.27), P(0.50, 1.0)))]),
                (1, [join(loop, bezier(P(0.55, 0.27), P(0.56, 0.60), P(0.50, 0.85), P(0.36, 1.0)))]),
            ]
        default:
            return []
        }
    }

    // MARK: - Building blocks

    static func P(_ x: Double, _ y: Double) -> Point { Point(x, y) }

    static func line(_ a: Point, _ b: Point) -> Stroke { [a, b] }

    /// An elliptic arc; angles in degrees, 0 to the right, 90 downwards.
    static func arc(_ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double, from: Double, to: Double) -> Stroke {
        let steps = max(8, Int(abs(to - from) / 10))
        return (0...steps).map { i in
            let angle = (from + (to - from) * Double(i) / Double(steps)) * Double.pi / 180
            return Point(cx + rx * cos(angle), cy + ry * sin(angle))
        }
    }

    /// A cubic Bézier curve.
    static func bezier(_ p0: Point, _ p1: Point, _ p2: Point, _ p3: Point, steps: Int = 16) -> Stroke {
        (0...steps).map { i in
            let t = Double(i) / Double(steps), s = 1 - t
            return s * s * s * p0 + 3 * s * s * t * p1 + 3 * s * t * t * p2 + t * t * t * p3
        }
    }

    /// Pieces drawn in one movement, each starting where the last ended.
    static func join(_ pieces: Stroke...) -> Stroke {
        var out: Stroke = []
        for piece in pieces {
            if let last = out.last, let first = piece.first, simd_distance(last, first) < 1e-9 {
                out.append(contentsOf: piece.dropFirst())
            } else {
                out.append(contentsOf: piece)
            }
        }
        return out
    }
}

private func simd_distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
    let d = a - b
    return (d * d).sum().squareRoot()
}
