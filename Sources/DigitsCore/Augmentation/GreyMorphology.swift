/// Grey-level erosion and dilation of an image with a 3×3 cross (the pixel and its four
/// neighbours): erosion takes each pixel's minimum over the cross and thins bright strokes,
/// dilation its maximum and thickens them. Pixels outside the image count as 0 (background).
///
/// `thicken(amount:)` blends between the image and its dilation (amount > 0) or its erosion
/// (amount < 0), so a stroke's width changes by a fraction of a pixel on each side. Erosion
/// never adds ink: every output pixel is at most the input's.
public enum GreyMorphology {
    /// Erosion: dst[y, x] = min over the cross at (y, x) of src. src, dst: (h, w), distinct.
    public static func erode(_ src: UnsafePointer<Float>, height h: Int, width w: Int,
                             into dst: UnsafeMutablePointer<Float>) {
        apply(src, height: h, width: w, into: dst, takeMax: false)
    }

    /// Dilation: dst[y, x] = max over the cross at (y, x) of src. src, dst: (h, w), distinct.
    public static func dilate(_ src: UnsafePointer<Float>, height h: Int, width w: Int,
                              into dst: UnsafeMutablePointer<Float>) {
        apply(src, height: h, width: w, into: dst, takeMax: true)
    }

    /// image ← image + |amount| · (dilate(image) − image) for amount > 0, the same with the
    /// erosion for amount < 0; amount in [−1, 1]. scratch: (h, w).
    public static func thicken(_ image: UnsafeMutablePointer<Float>, height h: Int, width w: Int,
                               amount: Float, scratch: UnsafeMutablePointer<Float>) {
        guard amount != 0 else { return }
        apply(image, height: h, width: w, into: scratch, takeMax: amount > 0)
        let t = min(abs(amount), 1)
        for i in 0..<(h * w) { image[i] += t * (scratch[i] - image[i]) }
    }

    private static func apply(_ src: UnsafePointer<Float>, height h: Int, width w: Int,
                              into dst: UnsafeMutablePointer<Float>, takeMax: Bool) {
        for y in 0..<h {
            for x in 0..<w {
                let c = src[y * w + x]
                let left = x > 0 ? src[y * w + x - 1] : 0
                let right = x < w - 1 ? src[y * w + x + 1] : 0
                let up = y > 0 ? src[(y - 1) * w + x] : 0
                let down = y < h - 1 ? src[(y + 1) * w + x] : 0
                dst[y * w + x] = takeMax ? max(c, left, right, up, down) : min(c, left, right, up, down)
            }
        }
    }
}
