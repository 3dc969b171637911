// MARK: - InkAnalysis

/// The measurements behind `DigitPreparation`: smoothing, a robust background plane, the
/// connected marks that carry ink, stroke width, and morphology on flat buffers.
enum InkAnalysis {
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
}
