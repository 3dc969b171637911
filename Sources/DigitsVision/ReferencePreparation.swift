// MARK: - ReferencePreparation

/// The plain implementation of `DigitPreparation.analyse` and everything it uses, kept as it was
/// written before preparation was made fast (one array per step, one pixel at a time), to check
/// the fast one against: both must give bit-identical results on every input
/// (`Tests/DigitsVisionTests/FastPreparationTests.swift`, and the `prepare` fuzz target compares
/// them on every input it makes). Not used by anything else, and not part of the WebAssembly module.
public enum ReferencePreparation {
    static let side = DigitPreparation.side
    static let box = DigitPreparation.box
    static let centre = DigitPreparation.centre
    static let minimumStrokeWidth = DigitPreparation.minimumStrokeWidth

    // MARK: - Preparing

    /// The prepared digit together with what was found on the way.
    public static func analyse(_ image: Image, source: String = "image") throws(ImageError) -> PreparedDigit {
        // 1. Greyscale, working on at most 1024 pixels per side (plenty for a 20-pixel digit).
        var width = image.width, height = image.height
        var grey = greyscale(image)
        let longest = max(width, height)
        var scaleBack = 1.0
        if longest > 1024 {
            let factor = 1024.0 / Double(longest)
            let newWidth = max(1, Int((Double(width) * factor).rounded()))
            let newHeight = max(1, Int((Double(height) * factor).rounded()))
            grey = resize(grey, width: width, height: height, toWidth: newWidth, toHeight: newHeight)
            scaleBack = Double(longest) / 1024.0
            width = newWidth
            height = newHeight
        }
        let smooth = boxBlur3(grey, width: width, height: height)

        // 2–3. Background plane and noise level; polarity from which side has more ink beyond the noise.
        let background = fitBackground(smooth, width: width, height: height)
        let noise = background.noise
        var detect = [Float](repeating: 0, count: grey.count)  // smoothed, ink positive
        var raw = [Float](repeating: 0, count: grey.count)     // unsmoothed, ink positive
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let level = background.level(x: x, y: y)
                detect[i] = smooth[i] - level
                raw[i] = grey[i] - level
            }
        }
        let margin = max(3 * noise, 4)
        var darkMass: Float = 0, brightMass: Float = 0
        for v in detect {
            if v > margin { brightMass += v - margin } else if -v > margin { darkMass += -v - margin }
        }
        let inkWasDark = darkMass > brightMass
        if inkWasDark {
            for i in 0..<detect.count {
                detect[i] = -detect[i]
                raw[i] = -raw[i]
            }
        }

        // A blank page: nothing stands out of the noise.
        let peak = detect.max() ?? 0
        let required = max(20, 6 * noise)
        if peak < required {
            throw ImageError(file: source, kind: .blank,
                             detail: "the strongest mark has a contrast of \(Int(peak.rounded())) of 255")
        }

        // 4. The marks that carry real ink, and their bounding box.
        let threshold = max(0.35 * peak, 4 * noise)
        let keep = inkMask(detect, width: width, height: height, threshold: threshold)
        guard let bounds = boundingBox(of: keep, width: width, height: height) else {
            throw ImageError(file: source, kind: .blank, detail: "no connected ink")
        }

        // The ink level most marked pixels reach becomes 255 (MNIST's pen is saturated).
        var marked: [Double] = []
        for i in 0..<keep.count where keep[i] { marked.append(Double(raw[i])) }
        let level90 = marked.isEmpty ? peak : Float(quantile(marked, 0.9))
        let inkLevel = max(level90, threshold, 1)
        let rawNoise = noiseLevel(grey, width: width, height: height, distance: 2)
        let floor = min(2.5 * rawNoise, 0.3 * inkLevel)

        // Crop, keeping only pixels near the kept marks (specks inside the box go too).
        var cropKeep = [Bool](repeating: false, count: bounds.width * bounds.height)
        for y in 0..<bounds.height {
            for x in 0..<bounds.width { cropKeep[y * bounds.width + x] = keep[(bounds.y + y) * width + bounds.x + x] }
        }
        let near = dilate(cropKeep, width: bounds.width, height: bounds.height, radius: 2)
        var crop = [Float](repeating: 0, count: bounds.width * bounds.height)
        for y in 0..<bounds.height {
            for x in 0..<bounds.width where near[y * bounds.width + x] {
                let v = raw[(bounds.y + y) * width + bounds.x + x]
                crop[y * bounds.width + x] = ((v - floor) / (inkLevel - floor)).clamped(to: 0...1)
            }
        }

        // 5. At four times the final resolution, thicken strokes that would come out thinner than MNIST's.
        let detail = 4 * box
        let detailScale = Double(detail) / Double(max(bounds.width, bounds.height))
        let detailWidth = Int((Double(bounds.width) * detailScale).rounded()).clamped(to: 1...detail)
        let detailHeight = Int((Double(bounds.height) * detailScale).rounded()).clamped(to: 1...detail)
        var work = resize(crop, width: bounds.width, height: bounds.height,
                                     toWidth: detailWidth, toHeight: detailHeight)
        let strokeWidth = strokeWidth(work, width: detailWidth,
                                                  bounds: PixelRect(x: 0, y: 0, width: detailWidth, height: detailHeight))
        let toBox = Double(box) / Double(detail)
        var grow = 0
        if strokeWidth * toBox < minimumStrokeWidth {
            let wanted = ((minimumStrokeWidth + 0.3) / toBox - strokeWidth) / 2
            grow = Int(wanted.rounded(.up)).clamped(to: 0...(detail / 10))
        }
        var workWidth = detailWidth, workHeight = detailHeight
        if grow > 0 {
            let paddedWidth = detailWidth + 2 * grow, paddedHeight = detailHeight + 2 * grow
            var padded = [Float](repeating: 0, count: paddedWidth * paddedHeight)
            for y in 0..<detailHeight {
                for x in 0..<detailWidth { padded[(y + grow) * paddedWidth + x + grow] = work[y * detailWidth + x] }
            }
            work = maxFilter(padded, width: paddedWidth, height: paddedHeight, radius: grow)
            workWidth = paddedWidth
            workHeight = paddedHeight
        }

        // 6. Fit into 20×20, keeping the aspect ratio.
        let fitScale = Double(box) / Double(max(workWidth, workHeight))
        let fittedWidth = Int((Double(workWidth) * fitScale).rounded()).clamped(to: 1...box)
        let fittedHeight = Int((Double(workHeight) * fitScale).rounded()).clamped(to: 1...box)
        let fitted = resize(work, width: workWidth, height: workHeight,
                                       toWidth: fittedWidth, toHeight: fittedHeight)

        // 7. Centre of mass to (14, 14).
        let pixels = place(fitted, width: fittedWidth, height: fittedHeight)
        let boxX = Int((Double(bounds.x) * scaleBack).rounded(.down)).clamped(to: 0...(image.width - 1))
        let boxY = Int((Double(bounds.y) * scaleBack).rounded(.down)).clamped(to: 0...(image.height - 1))
        let sourceBox = PixelRect(
            x: boxX, y: boxY,
            width: Int((Double(bounds.width) * scaleBack).rounded()).clamped(to: 1...(image.width - boxX)),
            height: Int((Double(bounds.height) * scaleBack).rounded()).clamped(to: 1...(image.height - boxY)))
        let inkPixels = Double(keep.lazy.filter { $0 }.count) * scaleBack * scaleBack
        return PreparedDigit(pixels: pixels, inkWasDark: inkWasDark, inkBox: sourceBox,
                             contrast: Double(inkLevel), strokeWidth: strokeWidth / detailScale * scaleBack,
                             thickened: grow > 0, imageWidth: image.width, imageHeight: image.height,
                             inkPixels: Int(inkPixels.rounded()))
    }

    /// Places a fitted digit (values 0…1, at most 20×20) in 28×28 with its centre of mass at `centre`.
    static func place(_ fitted: [Float], width: Int, height: Int) -> [UInt8] {
        var mass: Double = 0, sumX: Double = 0, sumY: Double = 0
        for y in 0..<height {
            for x in 0..<width {
                let v = Double(fitted[y * width + x])
                mass += v
                sumX += v * Double(x)
                sumY += v * Double(y)
            }
        }
        let comX = mass > 0 ? sumX / mass : Double(width - 1) / 2
        let comY = mass > 0 ? sumY / mass : Double(height - 1) / 2
        let left = Int((centre - comX).rounded()).clamped(to: 0...(side - width))
        let top = Int((centre - comY).rounded()).clamped(to: 0...(side - height))
        var out = [UInt8](repeating: 0, count: side * side)
        for y in 0..<height {
            for x in 0..<width {
                let v = (fitted[y * width + x] * 255).rounded().clamped(to: 0...255)
                out[(top + y) * side + left + x] = UInt8(v)
            }
        }
        return out
    }

    // MARK: - Greyscale

    /// Grey levels 0…255 (Rec. 601 luma), row-major. Transparent pixels become background: when
    /// most of the image is transparent they take the level opposite to the visible marks,
    /// otherwise the level of the visible page.
    static func greyscale(_ image: Image) -> [Float] {
        let n = image.pixelCount, channels = image.channels
        var luma = [Float](repeating: 0, count: n)
        var alpha = [Float](repeating: 255, count: n)
        image.pixels.withUnsafeBufferPointer { samples in
            luma.withUnsafeMutableBufferPointer { luma in
                alpha.withUnsafeMutableBufferPointer { alpha in
                    for p in 0..<n {
                        let i = p * channels
                        if channels < 3 {
                            luma[p] = Float(samples[i])
                        } else {
                            luma[p] = 0.299 * Float(samples[i]) + 0.587 * Float(samples[i + 1]) + 0.114 * Float(samples[i + 2])
                        }
                        if channels == 2 || channels == 4 { alpha[p] = Float(samples[i + channels - 1]) }
                    }
                }
            }
        }
        guard image.hasAlpha, alpha.contains(where: { $0 < 255 }) else { return luma }
        var visible: [Float] = []
        var transparent = 0
        for p in 0..<n {
            if alpha[p] >= 128 { visible.append(luma[p]) } else { transparent += 1 }
        }
        visible.sort()
        let visibleMedian: Float = visible.isEmpty ? 255 : visible[visible.count / 2]
        let backdrop: Float
        if transparent * 2 > n {
            backdrop = visibleMedian < 128 ? 255 : 0  // the visible marks are the ink
        } else {
            backdrop = visibleMedian  // the visible part is the page
        }
        for p in 0..<n {
            let a = alpha[p] / 255
            luma[p] = luma[p] * a + backdrop * (1 - a)
        }
        return luma
    }

    // MARK: - Smoothing

    /// 3×3 box mean (edges use the pixels that exist).
    static func boxBlur3(_ values: [Float], width: Int, height: Int) -> [Float] {
        var horizontal = [Float](repeating: 0, count: values.count)
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                let lo = max(0, x - 1), hi = min(width - 1, x + 1)
                var sum: Float = 0
                for k in lo...hi { sum += values[row + k] }
                horizontal[row + x] = sum / Float(hi - lo + 1)
            }
        }
        var out = [Float](repeating: 0, count: values.count)
        for y in 0..<height {
            let lo = max(0, y - 1), hi = min(height - 1, y + 1)
            let count = Float(hi - lo + 1)
            for x in 0..<width {
                var sum: Float = 0
                for k in lo...hi { sum += horizontal[k * width + x] }
                out[y * width + x] = sum / count
            }
        }
        return out
    }

    // MARK: - Background

    /// A background level `a + b·u + c·v` over normalised coordinates (u, v in -0.5…0.5), and
    /// the noise around it.
    struct BackgroundPlane {
        var a: Double
        var b: Double
        var c: Double
        var width: Int
        var height: Int
        /// Robust standard deviation of the values around the plane.
        var noise: Float

        func level(x: Int, y: Int) -> Float {
            let u = Double(x) / Double(max(1, width)) - 0.5
            let v = Double(y) / Double(max(1, height)) - 0.5
            return Float(a + b * u + c * v)
        }
    }

    /// Fits the background plane to the medians of up to 8×8 blocks: of a least-absolute-
    /// deviations plane (which follows even banded, quantised gradients) and a plane through the
    /// blocks at the most common level (which thick ink cannot tilt), the one that explains
    /// more blocks as background.
    static func fitBackground(_ values: [Float], width: Int, height: Int) -> BackgroundPlane {
        let columns = min(8, max(1, width / 12)), rows = min(8, max(1, height / 12))
        var us: [Double] = [], vs: [Double] = [], zs: [Double] = []
        for row in 0..<rows {
            let y0 = row * height / rows, y1 = (row + 1) * height / rows
            for column in 0..<columns {
                let x0 = column * width / columns, x1 = (column + 1) * width / columns
                let step = max(1, Int((Double((x1 - x0) * (y1 - y0)) / 400).squareRoot()))
                // Median of the block from a histogram of half grey levels.
                var histogram = [Int](repeating: 0, count: 512)
                var samples = 0
                for y in stride(from: y0, to: y1, by: step) {
                    for x in stride(from: x0, to: x1, by: step) {
                        histogram[min(511, max(0, Int(values[y * width + x] * 2)))] += 1
                        samples += 1
                    }
                }
                guard samples > 0 else { continue }
                var seen = 0, bin = 0
                while bin < 511 && seen + histogram[bin] <= samples / 2 {
                    seen += histogram[bin]
                    bin += 1
                }
                us.append((Double(x0 + x1) / 2) / Double(width) - 0.5)
                vs.append((Double(y0 + y1) / 2) / Double(height) - 0.5)
                zs.append((Double(bin) + 0.5) / 2)
            }
        }
        let noise = noiseLevel(values, width: width, height: height, distance: 3)
        let flat = BackgroundPlane(a: quantile(zs, 0.5), b: 0, c: 0, width: width, height: height, noise: noise)
        guard zs.count >= 4 else { return flat }
        let tolerance = max(12, 3 * Double(noise))
        func residual(_ p: BackgroundPlane, _ i: Int) -> Double { zs[i] - (p.a + p.b * us[i] + p.c * vs[i]) }
        func inliers(_ p: BackgroundPlane) -> [Int] { zs.indices.filter { abs(residual(p, $0)) <= tolerance } }
        func leastSquares(_ indices: [Int], weights: (Int) -> Double) -> BackgroundPlane? {
            var n = 0.0, su = 0.0, sv = 0.0, suu = 0.0, suv = 0.0, svv = 0.0, sz = 0.0, suz = 0.0, svz = 0.0
            for i in indices {
                let u = us[i], v = vs[i], z = zs[i], w = weights(i)
                n += w; su += w * u; sv += w * v; suu += w * u * u; suv += w * u * v; svv += w * v * v
                sz += w * z; suz += w * u * z; svz += w * v * z
            }
            guard let (a, b, c) = solve3((n, su, sv, suu, suv, svv), (sz, suz, svz)) else { return nil }
            return BackgroundPlane(a: a, b: b, c: c, width: width, height: height, noise: noise)
        }

        // Candidate 1: least absolute deviations by reweighting (w = 1/|r|). It follows a
        // gradient even when quantised into bands, but ink covering much of the picture can tilt it.
        var lad = flat
        for _ in 0..<20 {
            let current = lad
            guard let next = leastSquares(Array(zs.indices), weights: { 1 / max(1, abs(residual(current, $0))) }) else { break }
            lad = next
        }
        // Candidate 2: the most common block level (the page), refined by fitting a plane to the
        // blocks near it. Thick ink never outnumbers the page this way.
        var page = flat, most = -1
        for z in zs {
            let near = zs.filter { abs($0 - z) <= tolerance }
            if near.count > most {
                most = near.count
                page.a = quantile(near, 0.5)
            }
        }
        for _ in 0..<3 {
            let current = page
            guard let next = leastSquares(inliers(current), weights: { _ in 1 }) else { break }
            page = next
        }
        // The candidate that explains the blocks better, counting each block's miss up to the
        // tolerance (so ink blocks cost the same whatever their level) wins.
        func cost(_ p: BackgroundPlane) -> Double { zs.indices.reduce(0) { $0 + min(abs(residual(p, $1)), tolerance) } }
        return cost(lad) < cost(page) ? lad : page
    }

    /// The standard deviation of the noise, estimated from differences between pixels
    /// `distance` apart (far enough apart that smoothing does not correlate them): their median
    /// absolute value is 0.6745·√2 σ for Gaussian noise, and strokes, whose insides are flat,
    /// only add their edges. Unlike the spread of the values themselves, this does not grow when
    /// thick ink covers much of the picture.
    static func noiseLevel(_ values: [Float], width: Int, height: Int, distance: Int) -> Float {
        let step = max(1, Int((Double(width * height) / 12_000).squareRoot()))
        var differences: [Double] = []
        for y in stride(from: 0, to: height, by: step) {
            for x in stride(from: 0, to: width, by: step) {
                let v = values[y * width + x]
                if x + distance < width { differences.append(Double(abs(values[y * width + x + distance] - v))) }
                if y + distance < height { differences.append(Double(abs(values[(y + distance) * width + x] - v))) }
            }
        }
        guard !differences.isEmpty else { return 0 }
        return Float(quantile(differences, 0.5) / (0.6745 * 2.0.squareRoot()))
    }

    /// The `q`-quantile (0…1) of grey-level-like values: for many values from a histogram of
    /// 1/8-level bins over -512…512 (values outside are clamped), linear time and precise enough
    /// for grey levels; for a few by sorting.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        if values.count <= 256 {
            let sorted = values.sorted()
            return sorted[Int((q * Double(values.count - 1)).rounded(.down))]
        }
        let low = -512.0, binsPerLevel = 8.0
        let count = Int(1024 * binsPerLevel)
        var histogram = [Int](repeating: 0, count: count)
        for v in values {
            let bin = Int(((v - low) * binsPerLevel).rounded(.down))
            histogram[min(count - 1, max(0, bin))] += 1
        }
        let target = Int((q * Double(values.count - 1)).rounded(.down))
        var seen = 0
        for (bin, n) in histogram.enumerated() {
            seen += n
            if seen > target { return low + (Double(bin) + 0.5) / binsPerLevel }
        }
        return low + Double(count) / binsPerLevel
    }

    /// Solves the symmetric 3×3 system [[a, b, c], [b, d, e], [c, e, f]] · x = r by Cramer's
    /// rule; `nil` when it is (nearly) singular.
    static func solve3(_ m: (a: Double, b: Double, c: Double, d: Double, e: Double, f: Double),
                       _ r: (Double, Double, Double)) -> (Double, Double, Double)? {
        func det(_ a: Double, _ b: Double, _ c: Double, _ d: Double, _ e: Double, _ f: Double,
                 _ g: Double, _ h: Double, _ i: Double) -> Double {
            a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        }
        let (a, b, c, d, e, f) = m
        let full = det(a, b, c, b, d, e, c, e, f)
        guard abs(full) > 1e-12 else { return nil }
        let x = det(r.0, b, c, r.1, d, e, r.2, e, f) / full
        let y = det(a, r.0, c, b, r.1, e, c, r.2, f) / full
        let z = det(a, b, r.0, b, d, r.1, c, e, r.2) / full
        return (x, y, z)
    }

    // MARK: - Marks

    /// The pixels above `threshold` that belong to connected marks (8-connected) carrying at
    /// least 8% of the ink of the strongest mark; specks and dust fall away. Marks that frame
    /// the picture (touching two sides, or running along most of one: a table or shadow around
    /// a photographed page) are ignored when there is anything else.
    static func inkMask(_ values: [Float], width: Int, height: Int, threshold: Float) -> [Bool] {
        let n = width * height
        var label = [Int32](repeating: -1, count: n)
        var masses: [Float] = []
        var frames: [Bool] = []
        var stack: [Int] = []
        for start in 0..<n where values[start] > threshold && label[start] < 0 {
            let id = Int32(masses.count)
            var mass: Float = 0
            var minX = width, maxX = -1, minY = height, maxY = -1
            label[start] = id
            stack.append(start)
            while let p = stack.popLast() {
                mass += values[p]
                let px = p % width, py = p / width
                minX = min(minX, px); maxX = max(maxX, px); minY = min(minY, py); maxY = max(maxY, py)
                for dy in -1...1 {
                    let y = py + dy
                    guard y >= 0, y < height else { continue }
                    for dx in -1...1 {
                        let x = px + dx
                        guard x >= 0, x < width else { continue }
                        let q = y * width + x
                        if label[q] < 0 && values[q] > threshold {
                            label[q] = id
                            stack.append(q)
                        }
                    }
                }
            }
            masses.append(mass)
            let left = minX == 0, right = maxX == width - 1, top = minY == 0, bottom = maxY == height - 1
            let sides = [left, right, top, bottom].filter { $0 }.count
            let spansWidth = Double(maxX - minX + 1) >= 0.9 * Double(width)
            let spansHeight = Double(maxY - minY + 1) >= 0.9 * Double(height)
            frames.append(sides >= 2 || ((top || bottom) && spansWidth) || ((left || right) && spansHeight))
        }
        let content = frames.contains(false)
        let strongest = masses.indices.filter { !content || !frames[$0] }.map { masses[$0] }.max() ?? 0
        let kept = masses.indices.map { i in (!content || !frames[i]) && masses[i] >= 0.08 * strongest }
        return label.map { $0 >= 0 && kept[Int($0)] }
    }

    /// The smallest rectangle holding every set pixel; `nil` when none is set.
    static func boundingBox(of mask: [Bool], width: Int, height: Int) -> PixelRect? {
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] {
                minX = min(minX, x)
                maxX = max(maxX, x)
                minY = min(minY, y)
                maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return nil }
        return PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    // MARK: - Morphology

    /// Binary dilation by a (2·radius+1)² square.
    static func dilate(_ mask: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
        let values = mask.map { $0 ? Float(1) : 0 }
        return maxFilter(values, width: width, height: height, radius: radius, square: true).map { $0 > 0 }
    }

    /// Grey dilation: each value becomes the maximum within `radius`. With `square` false the
    /// neighbourhood alternates square and cross steps, which approximates a disc.
    static func maxFilter(_ values: [Float], width: Int, height: Int, radius: Int, square: Bool = false) -> [Float] {
        var current = values
        for step in 0..<max(0, radius) {
            let useSquare = square || step % 2 == 0
            var next = current
            for y in 0..<height {
                for x in 0..<width {
                    var m = current[y * width + x]
                    for dy in -1...1 {
                        let yy = y + dy
                        guard yy >= 0, yy < height else { continue }
                        for dx in -1...1 {
                            if !useSquare && dx != 0 && dy != 0 { continue }
                            let xx = x + dx
                            guard xx >= 0, xx < width else { continue }
                            m = max(m, current[yy * width + xx])
                        }
                    }
                    next[y * width + x] = m
                }
            }
            current = next
        }
        return current
    }

    // MARK: - Stroke width

    /// Estimated stroke width (pixels) of the ink (values 0…1) inside `bounds`, from the mean
    /// distance of the half-intensity mask's pixels to the nearest background pixel (a chamfer
    /// distance transform): across a stroke of width w = 2m+1 the distances 1, 2, …, m+1, …, 1
    /// average (m+1)²/w, which is inverted here.
    static func strokeWidth(_ ink: [Float], width: Int, bounds: PixelRect) -> Double {
        let w = bounds.width + 2, h = bounds.height + 2  // one pixel of empty border
        let far = Float(w + h)
        var distance = [Float](repeating: 0, count: w * h)
        var count = 0
        for y in 0..<bounds.height {
            for x in 0..<bounds.width where ink[(bounds.y + y) * width + bounds.x + x] > 0.5 {
                distance[(y + 1) * w + x + 1] = far
                count += 1
            }
        }
        guard count > 0 else { return 1 }
        let diagonal: Float = 1.4142
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) where distance[y * w + x] > 0 {
                let i = y * w + x
                distance[i] = min(distance[i], distance[i - 1] + 1, distance[i - w] + 1,
                                  distance[i - w - 1] + diagonal, distance[i - w + 1] + diagonal)
            }
        }
        var total: Double = 0
        for y in stride(from: h - 2, through: 1, by: -1) {
            for x in stride(from: w - 2, through: 1, by: -1) where distance[y * w + x] > 0 {
                let i = y * w + x
                distance[i] = min(distance[i], distance[i + 1] + 1, distance[i + w] + 1,
                                  distance[i + w + 1] + diagonal, distance[i + w - 1] + diagonal)
                total += Double(distance[i])
            }
        }
        let ratio = total / Double(count)
        let a = 2 * ratio - 1
        return a + (max(0, a * a - 1)).squareRoot()
    }

    // MARK: - Resampling

    /// `values` (`width * height`, row-major) resized to `newWidth * newHeight`.
    static func resize(_ values: [Float], width: Int, height: Int, toWidth newWidth: Int, toHeight newHeight: Int) -> [Float] {
        guard width > 0, height > 0, newWidth > 0, newHeight > 0, values.count == width * height else {
            return [Float](repeating: 0, count: max(0, newWidth) * max(0, newHeight))
        }
        let columns = weights(from: width, to: newWidth)
        let rows = weights(from: height, to: newHeight)
        // Horizontal pass: height × newWidth.
        var horizontal = [Float](repeating: 0, count: height * newWidth)
        values.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let rowStart = y * width, targetStart = y * newWidth
                    for x in 0..<newWidth {
                        var sum: Float = 0
                        for tap in columns[x] { sum += source[rowStart + tap.index] * tap.weight }
                        target[targetStart + x] = sum
                    }
                }
            }
        }
        // Vertical pass: newHeight × newWidth.
        var out = [Float](repeating: 0, count: newHeight * newWidth)
        horizontal.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<newHeight {
                    let targetStart = y * newWidth
                    for tap in rows[y] {
                        let sourceStart = tap.index * newWidth
                        let weight = tap.weight
                        for x in 0..<newWidth { target[targetStart + x] += source[sourceStart + x] * weight }
                    }
                }
            }
        }
        return out
    }

    /// One source sample's share of an output sample.
    struct Tap {
        var index: Int
        var weight: Float
    }

    /// For each of `m` outputs, the source samples (of `n`) it draws from and their weights (summing to 1).
    static func weights(from n: Int, to m: Int) -> [[Tap]] {
        if m == n { return (0..<n).map { [Tap(index: $0, weight: 1)] } }
        let scale = Double(n) / Double(m)  // source samples per output sample
        if m < n {
            // Area averaging: output i covers the source interval [i*scale, (i+1)*scale).
            return (0..<m).map { i in
                let start = Double(i) * scale, end = Double(i + 1) * scale
                var taps: [Tap] = []
                var j = Int(start.rounded(.down))
                while Double(j) < end && j < n {
                    let overlap = min(end, Double(j + 1)) - max(start, Double(j))
                    if overlap > 1e-9 { taps.append(Tap(index: j, weight: Float(overlap / scale))) }
                    j += 1
                }
                return taps
            }
        }
        // Linear interpolation between source sample centres.
        return (0..<m).map { i in
            let position = (Double(i) + 0.5) * scale - 0.5
            let clamped = min(max(position, 0), Double(n - 1))
            let left = Int(clamped.rounded(.down))
            let right = min(left + 1, n - 1)
            let t = Float(clamped - Double(left))
            if right == left || t == 0 { return [Tap(index: left, weight: 1)] }
            return [Tap(index: left, weight: 1 - t), Tap(index: right, weight: t)]
        }
    }
}
