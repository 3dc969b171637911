/// An elastic distortion in the manner of Simard, Steinkraus and Platt (2003): every pixel
/// is displaced by a smooth random field, as a hand's wobble bends a stroke.
///
/// Simard et al. draw a uniform displacement in [−1, 1] at every pixel, smooth it with a
/// Gaussian of σ ≈ 4 px and scale it by α. Here the smooth field is drawn directly: a
/// displacement uniform in [−alpha, alpha] px at each point of a coarse `grid` × `grid` lattice
/// spanning the image, interpolated bilinearly in between — a field of the same smoothness for
/// a few dozen random draws instead of two blurred images per sample.
public struct ElasticField {
    /// Control points per side (at least 2).
    public let grid: Int
    /// (grid, grid, 2): the displacement (dx, dy) at each control point.
    let points: UnsafeMutablePointer<Float>

    /// A field drawn from `rng` into `storage`, which holds at least `2 · grid²` floats.
    public init(grid: Int, alpha: Float, storage: UnsafeMutablePointer<Float>, rng: inout RandomSource) {
        self.grid = max(grid, 2)
        points = storage
        for i in 0..<(2 * self.grid * self.grid) { points[i] = rng.uniform(-alpha, alpha) }
    }

    /// The number of floats `init` needs for a `grid` × `grid` lattice.
    public static func storage(grid: Int) -> Int { 2 * max(grid, 2) * max(grid, 2) }

    /// The displacement at pixel (x, y) of an h × w image.
    @inline(__always)
    public func displacement(x: Int, y: Int, height h: Int, width w: Int) -> (dx: Float, dy: Float) {
        let gx = Float(x) * Float(grid - 1) / Float(max(w - 1, 1))
        let gy = Float(y) * Float(grid - 1) / Float(max(h - 1, 1))
        let x0 = min(Int(gx), grid - 2), y0 = min(Int(gy), grid - 2)
        let fx = gx - Float(x0), fy = gy - Float(y0)
        let p00 = 2 * (y0 * grid + x0), p01 = p00 + 2, p10 = p00 + 2 * grid, p11 = p10 + 2
        func lerp(_ o: Int) -> Float {
            let top = points[p00 + o] + fx * (points[p01 + o] - points[p00 + o])
            let bottom = points[p10 + o] + fx * (points[p11 + o] - points[p10 + o])
            return top + fy * (bottom - top)
        }
        return (lerp(0), lerp(1))
    }
}
