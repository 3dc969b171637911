/// Random distortions of the training images, drawn afresh for every sample of every batch:
/// a shift by up to `maxShift` pixels, a rotation by up to `maxRotation` degrees and a scaling by
/// a factor in [1 − `maxScale`, 1 + `maxScale`], composed into one affine warp about the image
/// centre and sampled bilinearly from the 8-bit image (zeros outside it).
///
/// The warp is applied while the batch is gathered, straight from the dataset's bytes into the
/// network's input, so it costs one pass over the batch and allocates nothing. Every draw comes
/// from the `RandomSource` passed in: the same seed gives the same distortions.
public struct Augmentation: Sendable, Equatable {
    /// The largest shift, in pixels, along each axis.
    public var maxShift: Float
    /// The largest rotation, in degrees, either way.
    public var maxRotation: Float
    /// The largest relative change of size: the scale is drawn from [1 − maxScale, 1 + maxScale].
    public var maxScale: Float

    public init(maxShift: Float = 2, maxRotation: Float = 10, maxScale: Float = 0.1) {
        self.maxShift = maxShift
        self.maxRotation = maxRotation
        self.maxScale = maxScale
    }

    /// "shift ±2.0 px, rotation ±10.0°, scale ±0.1"
    public var summary: String {
        "shift ±\(maxShift) px, rotation ±\(maxRotation)°, scale ±\(maxScale)"
    }

    /// The height and width of the images in samples of `shape`: the last two axes of
    /// (C, H, W) or (H, W), or a square side for a flat (N) sample. Nil when there is none.
    public static func imageSize(of shape: [Int]) -> (height: Int, width: Int)? {
        if shape.count >= 2 { return (shape[shape.count - 2], shape[shape.count - 1]) }
        guard let n = shape.first else { return nil }
        let side = Int(Double(n).squareRoot().rounded())
        return side * side == n ? (side, side) : nil
    }

    // MARK: - Gathering a distorted batch

    /// Like `Dataset.gather`, but each sample is warped by a fresh random distortion as it is
    /// converted: indices (B) -> x (B, sampleShape…), labels (B).
    public func gather(from data: Dataset, _ indices: UnsafeBufferPointer<Int>, transform: InputTransform,
                       into x: Tensor, labels y: UnsafeMutablePointer<Int32>, rng: inout RandomSource) {
        guard let (h, w) = Self.imageSize(of: data.sampleShape) else {
            data.gather(indices, transform: transform, into: x, labels: y)
            return
        }
        let s = data.sampleSize, planes = s / (h * w)
        x.reshape(to: [indices.count] + data.sampleShape)
        data.features.withUnsafeBufferPointer { f in
            for (b, i) in indices.enumerated() {
                y[b] = data.labels[i]
                let warp = drawWarp(height: h, width: w, rng: &rng)
                for p in 0..<planes {
                    warp.apply(f.baseAddress! + i * s + p * h * w, height: h, width: w, transform: transform,
                               into: x.data + b * s + p * h * w)
                }
            }
        }
    }

    /// A random warp for an image of h × w.
    func drawWarp(height h: Int, width w: Int, rng: inout RandomSource) -> Warp {
        let angle = rng.uniform(-maxRotation, maxRotation) * .pi / 180
        let scale = 1 + rng.uniform(-maxScale, maxScale)
        let tx = rng.uniform(-maxShift, maxShift), ty = rng.uniform(-maxShift, maxShift)
        // The output pixel at offset d from the centre shows the source at R(−θ)·(d − t)/s.
        let c = Math.cos(angle) / scale, sn = Math.sin(angle) / scale
        return Warp(a: c, b: sn, c: -sn, d: c, tx: tx, ty: ty,
                    centerX: Float(w - 1) / 2, centerY: Float(h - 1) / 2)
    }

    /// An affine map from output pixels to source pixels:
    /// src = centre + M · (dst − centre − t), M = [[a, b], [c, d]] acting on (x, y).
    struct Warp {
        var a: Float, b: Float, c: Float, d: Float
        var tx: Float, ty: Float
        var centerX: Float, centerY: Float

        /// Samples `src` (h × w bytes) bilinearly through the warp into `dst` as floats.
        func apply(_ src: UnsafePointer<UInt8>, height h: Int, width w: Int, transform: InputTransform,
                   into dst: UnsafeMutablePointer<Float>) {
            let scale = transform.scale, offset = transform.offset
            for oy in 0..<h {
                let dy = Float(oy) - centerY - ty
                for ox in 0..<w {
                    let dx = Float(ox) - centerX - tx
                    let sx = centerX + a * dx + b * dy
                    let sy = centerY + c * dx + d * dy
                    let x0f = sx.rounded(.down), y0f = sy.rounded(.down)
                    let fx = sx - x0f, fy = sy - y0f
                    let x0 = Int(x0f), y0 = Int(y0f)
                    @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                        x >= 0 && x < w && y >= 0 && y < h ? Float(src[y * w + x]) : 0
                    }
                    var v: Float = 0
                    if x0 >= -1 && x0 < w && y0 >= -1 && y0 < h {
                        let top = at(x0, y0) + fx * (at(x0 + 1, y0) - at(x0, y0))
                        let bottom = at(x0, y0 + 1) + fx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1))
                        v = top + fy * (bottom - top)
                    }
                    dst[oy * w + ox] = v * scale + offset
                }
            }
        }
    }
}
