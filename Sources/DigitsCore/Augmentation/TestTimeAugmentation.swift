/// Test-time augmentation: each image is read in a few fixed views (small shifts, rotations and
/// scalings about its centre) and the class probabilities of the views are averaged.
///
/// Nothing here is random: the same image always gives the same views, in the same order. The
/// views of a batch go through the network together, as one batch of B·V samples, sample b's
/// views in rows b·V ..< (b + 1)·V. A view is the same affine warp the training augmentation
/// draws (bilinear, zeros outside), so a view of no shift, rotation or scaling is the image
/// itself, bit for bit.
public struct TestTimeAugmentation: Sendable, Equatable {
    /// One way of looking at an image: shifted by (`shiftX`, `shiftY`) pixels (right, down),
    /// rotated by `rotation` degrees (clockwise on screen) and scaled by `scale`, about its centre.
    public struct View: Sendable, Equatable {
        /// Pixels to the right.
        public var shiftX: Float
        /// Pixels down.
        public var shiftY: Float
        /// Degrees.
        public var rotation: Float
        /// The factor of size (1: unchanged).
        public var scale: Float

        /// A view; by default, the image as it is.
        public init(shiftX: Float = 0, shiftY: Float = 0, rotation: Float = 0, scale: Float = 1) {
            self.shiftX = shiftX
            self.shiftY = shiftY
            self.rotation = rotation
            self.scale = scale
        }

        /// The image as it is.
        public static let identity = View()

        /// Whether the view leaves the image as it is.
        public var isIdentity: Bool { shiftX == 0 && shiftY == 0 && rotation == 0 && scale == 1 }

        /// The warp from output pixels to source pixels (as `Augmentation.drawWarp` builds it).
        func warp(height h: Int, width w: Int) -> Augmentation.Warp {
            let angle = rotation * .pi / 180
            let c = Math.cos(angle) / scale, s = Math.sin(angle) / scale
            return Augmentation.Warp(a: c, b: s, c: -s, d: c, tx: shiftX, ty: shiftY,
                                     centerX: Float(w - 1) / 2, centerY: Float(h - 1) / 2)
        }
    }

    /// The views each image is read in (at least one).
    public var views: [View]

    /// Reads each image in `views` (an empty list means the image alone).
    public init(views: [View]) {
        self.views = views.isEmpty ? [.identity] : views
    }

    /// Reading the image alone: the same as no test-time augmentation.
    public static let none = TestTimeAugmentation(views: [.identity])

    /// The number of views.
    public var count: Int { views.count }

    // MARK: - The views of a batch

    /// The views of `samples` samples of bytes, converted as `transform` says:
    /// src (samples, sampleShape…) bytes -> x (samples · V, sampleShape…).
    ///
    /// The image size is the last two axes of `sampleShape` ((C, H, W) or (H, W)) or the square
    /// side of a flat (N) sample; a sample that is not an image gets every view unchanged.
    public func expand(_ src: UnsafePointer<UInt8>, samples: Int, sampleShape: [Int], transform: InputTransform,
                       into x: Tensor) {
        let s = sampleShape.reduce(1, *), v = views.count
        x.reshape(to: [samples * v] + sampleShape)
        let size = Augmentation.imageSize(of: sampleShape)
        let warps = size.map { (h, w) in views.map { $0.isIdentity ? nil : $0.warp(height: h, width: w) } }
        let scale = transform.scale, offset = transform.offset
        for b in 0..<samples {
            let sample = src + b * s
            for k in 0..<v {
                let dst = x.data + (b * v + k) * s
                if let (h, w) = size, let warp = warps?[k] {
                    let planes = s / (h * w)
                    for p in 0..<planes {
                        warp.apply(sample + p * h * w, height: h, width: w, transform: transform, into: dst + p * h * w)
                    }
                } else {
                    for j in 0..<s { dst[j] = Float(sample[j]) * scale + offset }
                }
            }
        }
    }

    /// The mean of each sample's V rows of probabilities:
    /// p (samples · V, classes) -> out (samples, classes).
    public func average(_ p: UnsafePointer<Float>, samples: Int, classes: Int, into out: UnsafeMutablePointer<Float>) {
        let v = views.count
        let inverse = 1 / Float(v)
        for b in 0..<samples {
            for j in 0..<classes {
                var sum: Float = 0
                for k in 0..<v { sum += p[(b * v + k) * classes + j] }
                out[b * classes + j] = v == 1 ? sum : sum * inverse
            }
        }
    }
}
