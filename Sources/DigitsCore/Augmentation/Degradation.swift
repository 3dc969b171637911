/// How a picture loses quality on its way to the network: blur, low resolution, faint ink and
/// noise. Each works in place on one (h, w) image of grey levels 0…255 (ink bright).
public enum Degradation {
    /// A 3×3 binomial blur, [1 2 1]ᵀ[1 2 1] / 16, zeros outside. image, scratch: (h, w).
    public static func blur(_ image: UnsafeMutablePointer<Float>, height h: Int, width w: Int,
                            scratch: UnsafeMutablePointer<Float>) {
        // Rows into scratch, then columns back into the image.
        for y in 0..<h {
            for x in 0..<w {
                let l = x > 0 ? image[y * w + x - 1] : 0, r = x < w - 1 ? image[y * w + x + 1] : 0
                scratch[y * w + x] = 0.25 * l + 0.5 * image[y * w + x] + 0.25 * r
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                let u = y > 0 ? scratch[(y - 1) * w + x] : 0, d = y < h - 1 ? scratch[(y + 1) * w + x] : 0
                image[y * w + x] = 0.25 * u + 0.5 * scratch[y * w + x] + 0.25 * d
            }
        }
    }

    /// The image as it looks when made at half the resolution and enlarged again: the mean of
    /// each 2×2 block, then bilinear interpolation back to (h, w) (block centres at 2i + 0.5).
    /// image, scratch: (h, w); h and w even.
    public static func halfResolution(_ image: UnsafeMutablePointer<Float>, height h: Int, width w: Int,
                                      scratch: UnsafeMutablePointer<Float>) {
        let hh = h / 2, hw = w / 2
        guard hh > 0, hw > 0 else { return }
        for y in 0..<hh {
            for x in 0..<hw {
                let p = 2 * y * w + 2 * x
                scratch[y * hw + x] = 0.25 * (image[p] + image[p + 1] + image[p + w] + image[p + w + 1])
            }
        }
        for y in 0..<h {
            let sy = min(max((Float(y) - 0.5) / 2, 0), Float(hh - 1))
            let y0 = Int(sy), y1 = min(y0 + 1, hh - 1), fy = sy - Float(y0)
            for x in 0..<w {
                let sx = min(max((Float(x) - 0.5) / 2, 0), Float(hw - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, hw - 1), fx = sx - Float(x0)
                let top = scratch[y0 * hw + x0] + fx * (scratch[y0 * hw + x1] - scratch[y0 * hw + x0])
                let bottom = scratch[y1 * hw + x0] + fx * (scratch[y1 * hw + x1] - scratch[y1 * hw + x0])
                image[y * w + x] = top + fy * (bottom - top)
            }
        }
    }

    /// Faint ink: every level times `contrast` (in (0, 1]).
    public static func scaleContrast(_ image: UnsafeMutablePointer<Float>, count: Int, contrast: Float) {
        for i in 0..<count { image[i] *= contrast }
    }

    /// Adds noise of standard deviation `sigma` (a sum of two uniform draws, scaled: cheap and
    /// bell-shaped) and clamps to 0…255.
    public static func addNoise(_ image: UnsafeMutablePointer<Float>, count: Int, sigma: Float,
                                rng: inout RandomSource) {
        // u1 + u2 − 1 has variance 1/6.
        let k = sigma * 2.449_489_7
        for i in 0..<count {
            let n = (rng.nextUnit() + rng.nextUnit() - 1) * k
            image[i] = min(max(image[i] + n, 0), 255)
        }
    }
}
