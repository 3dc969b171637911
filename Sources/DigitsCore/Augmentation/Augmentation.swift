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

    /// The largest slant: x moves by up to ±maxShear · y (0.3 is about ±17°).
    public var maxShear: Float = 0
    /// The largest change of aspect: width × e^u, height × e^−u, u in [−maxAspect, maxAspect].
    public var maxAspect: Float = 0
    /// The elastic distortion's largest displacement at a control point, in pixels (0: none).
    public var elasticAlpha: Float = 0
    /// The elastic field's control points per side.
    public var elasticGrid: Int = 4
    /// The largest stroke-width change, as a blend towards the dilation (thicker) or erosion
    /// (thinner) in [−thickness, thickness] (0: none; 1: a whole pixel on each side).
    public var thickness: Float = 0
    /// The chance a sample is blurred (3×3 binomial).
    public var blurProbability: Float = 0
    /// The chance a sample is made at half resolution and enlarged again.
    public var lowResolutionProbability: Float = 0
    /// The faintest ink: every level is scaled by a factor in [minContrast, 1] (1: none).
    public var minContrast: Float = 1
    /// The largest noise standard deviation, in grey levels (0…255), drawn per sample from [0, maxNoise].
    public var maxNoise: Float = 0

    public init(maxShift: Float = 2, maxRotation: Float = 10, maxScale: Float = 0.1) {
        self.maxShift = maxShift
        self.maxRotation = maxRotation
        self.maxScale = maxScale
    }

    /// All of them: shift, rotation and scale as above, and the reader's distortions.
    public init(maxShift: Float, maxRotation: Float, maxScale: Float, maxShear: Float, maxAspect: Float,
                elasticAlpha: Float, elasticGrid: Int = 4, thickness: Float, blurProbability: Float,
                lowResolutionProbability: Float, minContrast: Float, maxNoise: Float) {
        self.init(maxShift: maxShift, maxRotation: maxRotation, maxScale: maxScale)
        self.maxShear = maxShear
        self.maxAspect = maxAspect
        self.elasticAlpha = elasticAlpha
        self.elasticGrid = max(elasticGrid, 2)
        self.thickness = thickness
        self.blurProbability = blurProbability
        self.lowResolutionProbability = lowResolutionProbability
        self.minContrast = minContrast
        self.maxNoise = maxNoise
    }

    /// Whether anything beyond shift, rotation and scale is on.
    public var isExtended: Bool {
        maxShear != 0 || maxAspect != 0 || elasticAlpha != 0 || thickness != 0 || blurProbability != 0
            || lowResolutionProbability != 0 || minContrast != 1 || maxNoise != 0
    }

    /// "shift ±2.0 px, rotation ±10.0°, scale ±0.1", and the others that are on.
    public var summary: String {
        var parts = ["shift ±\(maxShift) px, rotation ±\(maxRotation)°, scale ±\(maxScale)"]
        if maxShear != 0 { parts.append("shear ±\(maxShear)") }
        if maxAspect != 0 { parts.append("aspect ±\(maxAspect)") }
        if elasticAlpha != 0 { parts.append("elastic \(elasticAlpha) px on \(elasticGrid)×\(elasticGrid)") }
        if thickness != 0 { parts.append("thickness ±\(thickness)") }
        if blurProbability != 0 { parts.append("blur \(blurProbability)") }
        if lowResolutionProbability != 0 { parts.append("half resolution \(lowResolutionProbability)") }
        if minContrast != 1 { parts.append("contrast ≥ \(minContrast)") }
        if maxNoise != 0 { parts.append("noise ≤ \(maxNoise)") }
        return parts.joined(separator: ", ")
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
        if isExtended {
            gatherExtended(from: data, indices, height: h, width: w, transform: transform, into: x, labels: y, rng: &rng)
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
        guard maxShear != 0 || maxAspect != 0 else {
            return Warp(a: c, b: sn, c: -sn, d: c, tx: tx, ty: ty,
                        centerX: Float(w - 1) / 2, centerY: Float(h - 1) / 2)
        }
        // With slant k and aspect e^u the forward map is Shear(k) · Aspect(u) · R(θ) · s, so
        // M = Aspect(u)⁻¹ · Shear(k)⁻¹ applied after R(−θ)/s: [[1, −k], [0, 1]] then diag(e^−u, e^u).
        let k = maxShear != 0 ? rng.uniform(-maxShear, maxShear) : 0
        let u = maxAspect != 0 ? rng.uniform(-maxAspect, maxAspect) : 0
        let ax = Math.exp(-u), ay = Math.exp(u)
        return Warp(a: ax * (c + k * sn), b: ax * (sn - k * c), c: -ay * sn, d: ay * c, tx: tx, ty: ty,
                    centerX: Float(w - 1) / 2, centerY: Float(h - 1) / 2)
    }

    // MARK: - The reader's distortions

    /// The extended path: each sample's draws come from a generator forked for it in order, and
    /// the samples are prepared in parallel (fixed slices; no result depends on the threads).
    func gatherExtended(from data: Dataset, _ indices: UnsafeBufferPointer<Int>, height h: Int, width w: Int,
                        transform: InputTransform, into x: Tensor, labels y: UnsafeMutablePointer<Int32>,
                        rng: inout RandomSource) {
        let s = data.sampleSize, planes = s / (h * w), count = indices.count
        x.reshape(to: [count] + data.sampleShape)
        let scratchSize = 2 * h * w + ElasticField.storage(grid: elasticGrid)
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(count, 1)) { seeds in
            for b in 0..<count { seeds[b] = rng.next() }
            data.features.withUnsafeBufferPointer { f in
                data.labels.withUnsafeBufferPointer { l in
                    Parallel.forEachSlice(count, minimumSlice: 8) { range in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchSize) { scratch in
                            for b in range {
                                let i = indices[b]
                                y[b] = l[i]
                                var sampleRNG = RandomSource(seed: seeds[b])
                                for p in 0..<planes {
                                    distort(f.baseAddress! + i * s + p * h * w, height: h, width: w,
                                            transform: transform, into: x.data + b * s + p * h * w,
                                            scratch: scratch.baseAddress!, rng: &sampleRNG)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One image through every distortion that is on: src (h, w) bytes -> dst (h, w) floats.
    /// scratch: 2·h·w + the elastic field's storage.
    func distort(_ src: UnsafePointer<UInt8>, height h: Int, width w: Int, transform: InputTransform,
                 into dst: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                 rng: inout RandomSource) {
        let n = h * w, image = scratch, spare = scratch + n
        let warp = drawWarp(height: h, width: w, rng: &rng)
        let field = elasticAlpha != 0
            ? ElasticField(grid: elasticGrid, alpha: elasticAlpha, storage: scratch + 2 * n, rng: &rng) : nil
        warp.sample(src, height: h, width: w, field: field, into: image)
        if thickness != 0 {
            GreyMorphology.thicken(image, height: h, width: w, amount: rng.uniform(-thickness, thickness), scratch: spare)
        }
        if blurProbability != 0, rng.nextUnit() < blurProbability {
            Degradation.blur(image, height: h, width: w, scratch: spare)
        }
        if lowResolutionProbability != 0, rng.nextUnit() < lowResolutionProbability, h % 2 == 0, w % 2 == 0 {
            Degradation.halfResolution(image, height: h, width: w, scratch: spare)
        }
        if minContrast != 1 {
            Degradation.scaleContrast(image, count: n, contrast: rng.uniform(minContrast, 1))
        }
        if maxNoise != 0 {
            Degradation.addNoise(image, count: n, sigma: rng.uniform(0, maxNoise), rng: &rng)
        }
        let scale = transform.scale, offset = transform.offset
        for j in 0..<n { dst[j] = image[j] * scale + offset }
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

        /// Samples `src` bilinearly through the warp, each pixel displaced further by `field`
        /// when there is one, into `dst` as grey levels 0…255.
        func sample(_ src: UnsafePointer<UInt8>, height h: Int, width w: Int, field: ElasticField?,
                    into dst: UnsafeMutablePointer<Float>) {
            for oy in 0..<h {
                let dy = Float(oy) - centerY - ty
                for ox in 0..<w {
                    let dx = Float(ox) - centerX - tx
                    var sx = centerX + a * dx + b * dy
                    var sy = centerY + c * dx + d * dy
                    if let field {
                        let e = field.displacement(x: ox, y: oy, height: h, width: w)
                        sx += e.dx; sy += e.dy
                    }
                    let x0f = sx.rounded(.down), y0f = sy.rounded(.down)
                    let fx = sx - x0f, fy = sy - y0f
                    var v: Float = 0
                    if x0f >= -1 && x0f < Float(w) && y0f >= -1 && y0f < Float(h) {
                        let x0 = Int(x0f), y0 = Int(y0f)
                        @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                            x >= 0 && x < w && y >= 0 && y < h ? Float(src[y * w + x]) : 0
                        }
                        let top = at(x0, y0) + fx * (at(x0 + 1, y0) - at(x0, y0))
                        let bottom = at(x0, y0 + 1) + fx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1))
                        v = top + fy * (bottom - top)
                    }
                    dst[oy * w + ox] = v
                }
            }
        }
    }
}
