// MARK: - InkAnalysis

/// The measurements behind `DigitPreparation`: smoothing, a robust background plane, the
/// connected marks that carry ink, stroke width, and morphology on flat buffers.
///
/// Written for speed (a 280×280 drawing is prepared on every request of Digits Studio): one pass
/// over flat buffers per step, separable filters, masks as bytes, no closure or allocation per
/// pixel. `ReferencePreparation` keeps the plain version of each step; the results are
/// bit-identical (the same floating-point operations in the same order), which
/// `Tests/DigitsVisionTests/FastPreparationTests.swift` and the `prepare` fuzz target check.
enum InkAnalysis {
    // MARK: - Smoothing

    /// 3×3 box mean (edges use the pixels that exist): a row pass then a column pass, each sum
    /// taken left to right (top to bottom) from 0 and divided by the number of pixels in it.
    static func boxBlur3(_ values: [Float], width: Int, height: Int) -> [Float] {
        let n = width * height
        guard n > 0, values.count == n else { return [Float](repeating: 0, count: values.count) }
        // Both passes write every value: the arrays are not cleared first.
        let horizontal = [Float](unsafeUninitializedCapacity: n) { h, initialized in
            values.withUnsafeBufferPointer { v in
                for y in 0..<height {
                    let row = y * width
                    if width == 1 { h[row] = (0 + v[row]) / 1; continue }
                    h[row] = ((0 + v[row]) + v[row &+ 1]) / 2
                    if width > 2 {
                        for x in (row + 1)..<(row + width - 1) { h[x] = (((0 + v[x &- 1]) + v[x]) + v[x &+ 1]) / 3 }
                    }
                    let last = row + width - 1
                    h[last] = ((0 + v[last &- 1]) + v[last]) / 2
                }
            }
            initialized = n
        }
        return [Float](unsafeUninitializedCapacity: n) { o, initialized in
            horizontal.withUnsafeBufferPointer { h in
                for y in 0..<height {
                    let row = y * width
                    let up = y > 0 ? row - width : -1, down = y < height - 1 ? row + width : -1
                    switch (up >= 0, down >= 0) {
                    case (true, true):
                        for x in 0..<width { o[row &+ x] = (((0 + h[up &+ x]) + h[row &+ x]) + h[down &+ x]) / 3 }
                    case (true, false):
                        for x in 0..<width { o[row &+ x] = ((0 + h[up &+ x]) + h[row &+ x]) / 2 }
                    case (false, true):
                        for x in 0..<width { o[row &+ x] = ((0 + h[row &+ x]) + h[down &+ x]) / 2 }
                    case (false, false):
                        for x in 0..<width { o[row &+ x] = (0 + h[row &+ x]) / 1 }
                    }
                }
            }
            initialized = n
        }
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

        /// `b·u` for every column: with `rowTerms`, the level of (x, y) is
        /// `Float(a + columnTerms[x] + rowTerms[y])`, the same value as `level(x:y:)`.
        var columnTerms: [Double] { (0..<width).map { x in b * (Double(x) / Double(max(1, width)) - 0.5) } }
        /// `c·v` for every row.
        var rowTerms: [Double] { (0..<height).map { y in c * (Double(y) / Double(max(1, height)) - 0.5) } }
    }

    /// Fits the background plane to the medians of up to 8×8 blocks: of a least-absolute-
    /// deviations plane (which follows even banded, quantised gradients) and a plane through the
    /// blocks at the most common level (which thick ink cannot tilt), the one that explains
    /// more blocks as background.
    static func fitBackground(_ values: [Float], width: Int, height: Int) -> BackgroundPlane {
        let columns = min(8, max(1, width / 12)), rows = min(8, max(1, height / 12))
        var us: [Double] = [], vs: [Double] = [], zs: [Double] = []
        us.reserveCapacity(rows * columns); vs.reserveCapacity(rows * columns); zs.reserveCapacity(rows * columns)
        var histogram = [Int](repeating: 0, count: 4 * 512)  // one block's, of half grey levels
        values.withUnsafeBufferPointer { values in
            histogram.withUnsafeMutableBufferPointer { histogram in
                for row in 0..<rows {
                    let y0 = row * height / rows, y1 = (row + 1) * height / rows
                    for column in 0..<columns {
                        let x0 = column * width / columns, x1 = (column + 1) * width / columns
                        let step = max(1, Int((Double((x1 - x0) * (y1 - y0)) / 400).squareRoot()))
                        // ⌊2v⌋ toward zero, clamped to 0...511, as `min(511, max(0, Int(2v)))`.
                        @inline(__always) func binOf(_ v: Float) -> Int {
                            let t = v * 2
                            return t >= 511 ? 511 : t >= 0 ? Int(t) : 0
                        }
                        // Every step-th row and column of the block. First their range: a block
                        // whose samples all fall in one bin (blank page) has its median there.
                        var lowest = Float.infinity, highest = -Float.infinity
                        var samples = 0
                        var y = y0
                        while y < y1 {
                            let line = y &* width
                            if step == 1 {
                                let (low, high) = range(values, from: line &+ x0, to: line &+ x1)
                                lowest = min(lowest, low)
                                highest = max(highest, high)
                            } else {
                                var x = x0
                                while x < x1 {
                                    let v = values[line &+ x]
                                    lowest = v < lowest ? v : lowest
                                    highest = v > highest ? v : highest
                                    x &+= step
                                }
                            }
                            samples += (x1 - x0 + step - 1) / step
                            y &+= step
                        }
                        guard samples > 0 else { continue }
                        let first = binOf(lowest), last = binOf(highest)
                        var bin = first
                        if first != last {
                            // The median from a histogram of half grey levels, counted in four
                            // interleaved histograms (a page's pixels all fall in one bin, and one
                            // counter would make each count wait for the one before). Only bins
                            // first...last are counted, cleared and read.
                            for lane in stride(from: 0, to: 2048, by: 512) {
                                for b in (lane &+ first)...(lane &+ last) { histogram[b] = 0 }
                            }
                            y = y0
                            while y < y1 {
                                let line = y &* width
                                var lane = 0, x = x0
                                if step == 1, let base = values.baseAddress {
                                    // Eight equal values (a stretch of page or of ink) counted at once.
                                    while x &+ 8 <= x1 {
                                        let v = UnsafeRawPointer(base + (line &+ x)).loadUnaligned(as: SIMD8<Float>.self)
                                        if v == SIMD8(repeating: v[0]) {
                                            histogram[lane &+ binOf(v[0])] &+= 8
                                            lane = (lane &+ 512) & 2047
                                        } else {
                                            for k in 0..<8 {
                                                histogram[lane &+ binOf(v[k])] &+= 1
                                                lane = (lane &+ 512) & 2047
                                            }
                                        }
                                        x &+= 8
                                    }
                                }
                                while x < x1 {
                                    histogram[lane &+ binOf(values[line &+ x])] &+= 1
                                    lane = (lane &+ 512) & 2047
                                    x &+= step
                                }
                                y &+= step
                            }
                            // Bins below `first` are empty: the plain version's search from bin 0
                            // passes them with nothing seen.
                            func count(_ bin: Int) -> Int { histogram[bin] + histogram[bin &+ 512] + histogram[bin &+ 1024] + histogram[bin &+ 1536] }
                            var seen = 0
                            while bin < 511 && seen + count(bin) <= samples / 2 {
                                seen += count(bin)
                                bin += 1
                            }
                        }
                        us.append((Double(x0 + x1) / 2) / Double(width) - 0.5)
                        vs.append((Double(y0 + y1) / 2) / Double(height) - 0.5)
                        zs.append((Double(bin) + 0.5) / 2)
                    }
                }
            }
        }
        let noise = noiseLevel(values, width: width, height: height, distance: 3)
        let flat = BackgroundPlane(a: quantile(zs, 0.5), b: 0, c: 0, width: width, height: height, noise: noise)
        guard zs.count >= 4 else { return flat }
        // At most 64 blocks from here on: plain code.
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
        let all = Array(zs.indices)
        for _ in 0..<20 {
            let current = lad
            guard let next = leastSquares(all, weights: { 1 / max(1, abs(residual(current, $0))) }) else { break }
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

    /// The smallest and largest of `values[from..<to]` (at least one value), eight at a time.
    @inline(__always)
    static func range(_ values: UnsafeBufferPointer<Float>, from: Int, to: Int) -> (Float, Float) {
        guard let base = values.baseAddress, to > from else { return (.infinity, -.infinity) }
        var i = from
        var low = values[i], high = values[i]
        if to - from >= 8 {
            var lows = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self), highs = lows
            i &+= 8
            while i &+ 8 <= to {
                let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                lows.replace(with: v, where: v .< lows)
                highs.replace(with: v, where: v .> highs)
                i &+= 8
            }
            low = lows.min()
            high = highs.max()
        }
        while i < to {
            let v = values[i]
            low = v < low ? v : low
            high = v > high ? v : high
            i &+= 1
        }
        return (low, high)
    }

    /// The standard deviation of the noise, estimated from differences between pixels
    /// `distance` apart (far enough apart that smoothing does not correlate them): their median
    /// absolute value is 0.6745·√2 σ for Gaussian noise, and strokes, whose insides are flat,
    /// only add their edges. Unlike the spread of the values themselves, this does not grow when
    /// thick ink covers much of the picture.
    static func noiseLevel(_ values: [Float], width: Int, height: Int, distance: Int) -> Float {
        let step = max(1, Int((Double(width * height) / 12_000).squareRoot()))
        // How many differences there are: few are sorted, many go straight into the histogram
        // that `quantile` would make of them.
        let columns = (width + step - 1) / step, rows = (height + step - 1) / step
        let columnsWithRight = width > distance ? (width - distance + step - 1) / step : 0
        let rowsWithBelow = height > distance ? (height - distance + step - 1) / step : 0
        let total = columnsWithRight * rows + rowsWithBelow * columns
        guard total > 0 else { return 0 }
        let median: Double
        if total <= 256 {
            var differences: [Double] = []
            differences.reserveCapacity(total)
            forEachDifference(values, width: width, height: height, distance: distance, step: step) { differences.append($0) }
            median = quantile(differences, 0.5)
        } else {
            // Differences of exactly 0 (most of a page) are counted apart and added at the end.
            var histogram = Histogram()
            var zeros = 0
            histogram.countAll { add in
                forEachDifference(values, width: width, height: height, distance: distance, step: step) { d in
                    if d == 0 { zeros &+= 1 } else { add(d) }
                }
            }
            histogram.add(0, times: zeros)
            median = histogram.quantile(0.5, of: total)
        }
        return Float(median / (0.6745 * 2.0.squareRoot()))
    }

    /// Calls `body` with |v(x+d, y) − v(x, y)| and |v(x, y+d) − v(x, y)| (where they exist) at
    /// every `step`-th pixel of every `step`-th row, in that order.
    @inline(__always)
    private static func forEachDifference(_ values: [Float], width: Int, height: Int, distance: Int, step: Int,
                                          _ body: (Double) -> Void) {
        values.withUnsafeBufferPointer { values in
            let right = width - distance, down = distance * width  // columns that have a right neighbour; a row's offset
            var y = 0
            while y < height {
                let line = y &* width
                let below = y + distance < height
                var x = 0
                while x < width {
                    let v = values[line &+ x]
                    if x < right { body(Double(abs(values[line &+ x &+ distance] - v))) }
                    if below { body(Double(abs(values[line &+ down &+ x] - v))) }
                    x &+= step
                }
                y &+= step
            }
        }
    }

    /// The histogram `quantile` makes of many values: 1/8-level bins over -512…512, values
    /// outside clamped into the first or last bin.
    struct Histogram {
        static let low = -512.0, binsPerLevel = 8.0
        static let count = Int(1024 * binsPerLevel)
        var bins = [Int](repeating: 0, count: Histogram.count)

        /// The bin of `v`: ⌊(v − low)·8⌋ clamped to the bins (for a bin index t ≥ 0, truncation is ⌊t⌋).
        @inline(__always)
        static func bin(of v: Double) -> Int {
            let t = (v - low) * binsPerLevel
            return t >= Double(count) ? count &- 1 : t >= 0 ? Int(t) : 0
        }

        /// Counts `v` in its bin.
        @inline(__always)
        static func add(_ v: Double, to bins: UnsafeMutableBufferPointer<Int>) {
            bins[bin(of: v)] &+= 1
        }

        /// Counts `v` `times` times.
        mutating func add(_ v: Double, times: Int) {
            bins[Self.bin(of: v)] &+= times
        }

        /// Counts every value `fill` passes to the function it is given.
        mutating func countAll(_ fill: ((Double) -> Void) -> Void) {
            bins.withUnsafeMutableBufferPointer { bins in fill { Self.add($0, to: bins) } }
        }

        /// The `q`-quantile of the `total` values counted: the centre of the bin holding the
        /// value of rank ⌊q·(total − 1)⌋.
        func quantile(_ q: Double, of total: Int) -> Double {
            let target = Int((q * Double(total - 1)).rounded(.down))
            var seen = 0
            for (bin, n) in bins.enumerated() {
                seen += n
                if seen > target { return Self.low + (Double(bin) + 0.5) / Self.binsPerLevel }
            }
            return Self.low + Double(Self.count) / Self.binsPerLevel
        }
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
        var histogram = Histogram()
        histogram.countAll { add in for v in values { add(v) } }
        return histogram.quantile(q, of: values.count)
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
    /// a photographed page) are ignored when there is anything else. A mask of 0 and 1 bytes.
    static func inkMask(_ values: [Float], width: Int, height: Int, threshold: Float) -> [UInt8] {
        inkMaskAndBox(values, width: width, height: height, threshold: threshold).mask
    }

    /// `inkMask` and the smallest rectangle holding its set pixels (the union of the kept marks'
    /// boxes, which the search finds anyway: the same as `boundingBox(of:)`); `nil` when none is kept.
    /// The ink is `sign * values` (`sign` 1 or -1: dark ink on a light page need not be negated
    /// first; the product is exact).
    static func inkMaskAndBox(_ values: [Float], width: Int, height: Int, threshold: Float,
                              sign: Float = 1) -> (mask: [UInt8], box: PixelRect?) {
        let n = width * height
        guard n > 0, values.count == n else { return ([UInt8](repeating: 0, count: values.count), nil) }
        var boxes: [(minX: Int, maxX: Int, minY: Int, maxY: Int)] = []
        // 1 for ink not yet given to a mark, 0 otherwise: one byte to test per neighbour.
        var open = [UInt8](repeating: 0, count: n)
        // Every mark's pixels, mark after mark, and the pixels (x, y) still to visit: each ink
        // pixel is pushed once and kept once, so both fit from the start and never grow.
        var members = UnsafeMutableBufferPointer<Int>(start: nil, count: 0), kept = 0
        defer { members.deallocate() }
        var ends: [Int] = []        // where each mark's pixels end in `members`
        var masses: [Float] = []
        var frames: [Bool] = []
        values.withUnsafeBufferPointer { values in
            open.withUnsafeMutableBufferPointer { open in
                var inkCount = 0
                for i in 0..<n {  // no branch: vectorised
                    let ink: UInt8 = sign * values[i] > threshold ? 1 : 0
                    open[i] = ink
                    inkCount &+= Int(ink)
                }
                guard inkCount > 0, let base = UnsafeRawPointer(open.baseAddress) else { return }
                members = .allocate(capacity: inkCount)
                let stack = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * inkCount)
                defer { stack.deallocate() }
                var depth = 0  // entries on the stack
                var start = 0
                while start < n {
                    // Eight pixels at a time where none is open ink (most of a page).
                    if start &+ 8 <= n && base.loadUnaligned(fromByteOffset: start, as: UInt64.self) == 0 {
                        start &+= 8
                        continue
                    }
                    defer { start &+= 1 }
                    guard open[start] != 0 else { continue }
                    var mass: Float = 0
                    var minX = width, maxX = -1, minY = height, maxY = -1
                    open[start] = 0
                    let startY = start / width
                    stack[0] = start - startY * width
                    stack[1] = startY
                    depth = 2
                    while depth > 0 {
                        let py = stack[depth &- 1], px = stack[depth &- 2]
                        depth &-= 2
                        let p = py &* width &+ px
                        mass += sign * values[p]
                        members[kept] = p
                        kept &+= 1
                        minX = min(minX, px); maxX = max(maxX, px); minY = min(minY, py); maxY = max(maxY, py)
                        // The 8 neighbours, row above to row below, left to right (as the plain version).
                        let x0 = px > 0 ? -1 : 0, x1 = px < width - 1 ? 1 : 0
                        for dy in (py > 0 ? -1 : 0)...(py < height - 1 ? 1 : 0) {
                            let line = p &+ dy &* width
                            for dx in x0...x1 where open[line &+ dx] != 0 {
                                open[line &+ dx] = 0
                                stack[depth] = px &+ dx
                                stack[depth &+ 1] = py &+ dy
                                depth &+= 2
                            }
                        }
                    }
                    masses.append(mass)
                    ends.append(kept)
                    boxes.append((minX, maxX, minY, maxY))
                    let left = minX == 0, right = maxX == width - 1, top = minY == 0, bottom = maxY == height - 1
                    let sides = (left ? 1 : 0) + (right ? 1 : 0) + (top ? 1 : 0) + (bottom ? 1 : 0)
                    let spansWidth = Double(maxX - minX + 1) >= 0.9 * Double(width)
                    let spansHeight = Double(maxY - minY + 1) >= 0.9 * Double(height)
                    frames.append(sides >= 2 || ((top || bottom) && spansWidth) || ((left || right) && spansHeight))
                }
            }
        }
        let content = frames.contains(false)
        var strongest: Float? = nil
        for i in masses.indices where !content || !frames[i] {
            if let s = strongest { if masses[i] > s { strongest = masses[i] } } else { strongest = masses[i] }
        }
        let least = 0.08 * (strongest ?? 0)
        var minX = width, maxX = -1, minY = height, maxY = -1
        // Every ink pixel went to a mark, so `open` is all 0 again: it becomes the mask.
        open.withUnsafeMutableBufferPointer { mask in
            var from = 0
            for i in masses.indices {
                defer { from = ends[i] }
                guard (!content || !frames[i]) && masses[i] >= least else { continue }
                minX = min(minX, boxes[i].minX); maxX = max(maxX, boxes[i].maxX)
                minY = min(minY, boxes[i].minY); maxY = max(maxY, boxes[i].maxY)
                for k in from..<ends[i] { mask[members[k]] = 1 }
            }
        }
        let box = maxX < 0 ? nil : PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
        return (open, box)
    }

    /// The smallest rectangle holding every set pixel of a 0/1 mask; `nil` when none is set.
    static func boundingBox(of mask: [UInt8], width: Int, height: Int) -> PixelRect? {
        var minX = width, minY = height, maxX = -1, maxY = -1
        mask.withUnsafeBufferPointer { mask in
            for y in 0..<height {
                let line = y * width
                var first = -1, last = -1
                for x in 0..<width where mask[line &+ x] != 0 {
                    if first < 0 { first = x }
                    last = x
                }
                guard first >= 0 else { continue }
                minX = min(minX, first)
                maxX = max(maxX, last)
                minY = min(minY, y)
                maxY = y
            }
        }
        guard maxX >= 0 else { return nil }
        return PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    // MARK: - Morphology

    /// Binary dilation of a 0/1 mask by a (2·radius+1)² square (clipped at the edges), as two
    /// one-dimensional passes: a row's window, then a column's.
    static func dilate(_ mask: [UInt8], width: Int, height: Int, radius: Int) -> [UInt8] {
        let n = width * height
        guard radius > 0, n > 0, mask.count == n else { return mask }
        var rows = [UInt8](repeating: 0, count: n)
        var out = [UInt8](repeating: 0, count: n)
        mask.withUnsafeBufferPointer { m in
            rows.withUnsafeMutableBufferPointer { r in
                for y in 0..<height {
                    // The OR of the row shifted by -radius...radius (0/1 bytes: the same as "any
                    // set pixel in the window"), one shift at a time over the whole row (vectorised).
                    let line = y * width
                    for x in 0..<width { r[line &+ x] = m[line &+ x] }
                    for d in 1...radius where d < width {
                        for x in 0..<(width - d) { r[line &+ x] |= m[line &+ x &+ d] }
                        for x in d..<width { r[line &+ x] |= m[line &+ x &- d] }
                    }
                }
            }
        }
        rows.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<height {
                    let line = y * width
                    for k in max(0, y - radius)...min(height - 1, y + radius) {
                        let source = k * width
                        for x in 0..<width { o[line &+ x] |= r[source &+ x] }
                    }
                }
            }
        }
        return out
    }

    /// Grey dilation: each value becomes the maximum within `radius`. With `square` false the
    /// neighbourhood alternates square and cross steps, which approximates a disc. Each step
    /// reads the previous one's result; a square step is a row pass then a column pass.
    static func maxFilter(_ values: [Float], width: Int, height: Int, radius: Int, square: Bool = false) -> [Float] {
        let n = width * height
        guard radius > 0, n > 0, values.count == n else { return values }
        var current = values
        var rows = [Float](repeating: 0, count: n)
        var next = [Float](repeating: 0, count: n)
        for step in 0..<radius {
            let useSquare = square || step % 2 == 0
            current.withUnsafeBufferPointer { c in
                next.withUnsafeMutableBufferPointer { o in
                    if useSquare {
                        rows.withUnsafeMutableBufferPointer { r in
                            for y in 0..<height {
                                let line = y * width
                                for x in 0..<width {
                                    var m = c[line &+ x]
                                    if x > 0 { m = max(m, c[line &+ x &- 1]) }
                                    if x < width - 1 { m = max(m, c[line &+ x &+ 1]) }
                                    r[line &+ x] = m
                                }
                            }
                            for y in 0..<height {
                                let line = y * width
                                for x in 0..<width {
                                    var m = r[line &+ x]
                                    if y > 0 { m = max(m, r[line &- width &+ x]) }
                                    if y < height - 1 { m = max(m, r[line &+ width &+ x]) }
                                    o[line &+ x] = m
                                }
                            }
                        }
                    } else {
                        for y in 0..<height {
                            let line = y * width
                            for x in 0..<width {
                                var m = c[line &+ x]
                                if y > 0 { m = max(m, c[line &- width &+ x]) }
                                if x > 0 { m = max(m, c[line &+ x &- 1]) }
                                if x < width - 1 { m = max(m, c[line &+ x &+ 1]) }
                                if y < height - 1 { m = max(m, c[line &+ width &+ x]) }
                                o[line &+ x] = m
                            }
                        }
                    }
                }
            }
            swap(&current, &next)
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
        var total: Double = 0
        ink.withUnsafeBufferPointer { ink in
            distance.withUnsafeMutableBufferPointer { distance in
                for y in 0..<bounds.height {
                    for x in 0..<bounds.width where ink[(bounds.y &+ y) &* width &+ bounds.x &+ x] > 0.5 {
                        distance[(y &+ 1) &* w &+ x &+ 1] = far
                        count += 1
                    }
                }
                guard count > 0 else { return }
                let diagonal: Float = 1.4142
                for y in 1..<(h - 1) {
                    for x in 1..<(w - 1) where distance[y &* w &+ x] > 0 {
                        let i = y * w + x
                        distance[i] = min(distance[i], distance[i &- 1] + 1, distance[i &- w] + 1,
                                          distance[i &- w &- 1] + diagonal, distance[i &- w &+ 1] + diagonal)
                    }
                }
                for y in stride(from: h - 2, through: 1, by: -1) {
                    for x in stride(from: w - 2, through: 1, by: -1) where distance[y &* w &+ x] > 0 {
                        let i = y * w + x
                        distance[i] = min(distance[i], distance[i &+ 1] + 1, distance[i &+ w] + 1,
                                          distance[i &+ w &+ 1] + diagonal, distance[i &+ w &- 1] + diagonal)
                        total += Double(distance[i])
                    }
                }
            }
        }
        guard count > 0 else { return 1 }
        let ratio = total / Double(count)
        let a = 2 * ratio - 1
        return a + (max(0, a * a - 1)).squareRoot()
    }
}

