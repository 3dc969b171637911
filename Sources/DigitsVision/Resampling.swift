// MARK: - Resampling

/// Resizing flat grey (`[Float]`) rasters: area averaging when shrinking (each output pixel is
/// the coverage-weighted mean of the source pixels under it), linear interpolation when growing.
/// Separable: rows first, then columns.
public enum Resampling {
    /// `values` (`width * height`, row-major) resized to `newWidth * newHeight`.
    public static func resize(_ values: [Float], width: Int, height: Int, toWidth newWidth: Int, toHeight newHeight: Int) -> [Float] {
        guard width > 0, height > 0, newWidth > 0, newHeight > 0, values.count == width * height else {
            return [Float](repeating: 0, count: max(0, newWidth) * max(0, newHeight))
        }
        let columns = FlatTaps(weights(from: width, to: newWidth))
        let rows = FlatTaps(weights(from: height, to: newHeight))
        // Horizontal pass: height × newWidth; each sum from 0, taps in order.
        var horizontal = [Float](repeating: 0, count: height * newWidth)
        values.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { target in
                columns.index.withUnsafeBufferPointer { index in
                    columns.weight.withUnsafeBufferPointer { weight in
                        columns.start.withUnsafeBufferPointer { start in
                            for y in 0..<height {
                                let rowStart = y * width, targetStart = y * newWidth
                                for x in 0..<newWidth {
                                    var sum: Float = 0
                                    for t in start[x]..<start[x + 1] { sum += source[rowStart + index[t]] * weight[t] }
                                    target[targetStart + x] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        // Vertical pass: newHeight × newWidth; each row accumulated from 0, taps in order.
        var out = [Float](repeating: 0, count: newHeight * newWidth)
        horizontal.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<newHeight {
                    let targetStart = y * newWidth
                    for t in rows.start[y]..<rows.start[y + 1] {
                        let sourceStart = rows.index[t] * newWidth
                        let weight = rows.weight[t]
                        for x in 0..<newWidth { target[targetStart + x] += source[sourceStart + x] * weight }
                    }
                }
            }
        }
        return out
    }

    /// The taps of every output sample in flat arrays: output `i`'s are `start[i]..<start[i + 1]`.
    struct FlatTaps {
        var start: [Int] = [0]
        var index: [Int] = []
        var weight: [Float] = []

        init(_ taps: [[Tap]]) {
            start.reserveCapacity(taps.count + 1)
            for output in taps {
                for tap in output {
                    index.append(tap.index)
                    weight.append(tap.weight)
                }
                start.append(index.count)
            }
        }
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
