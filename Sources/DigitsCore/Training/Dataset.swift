/// Labelled samples kept compactly as bytes, converted to `Float` one batch at a time.
///
/// The core knows nothing of where the bytes came from: MNIST images, CSV rows or anything
/// else with 8-bit features and integer class labels.
public struct Dataset: Sendable {
    /// The shape of one sample: `[784]` for a flat image, `[1, 28, 28]` for a convolutional net.
    public var sampleShape: [Int]
    /// The number of samples.
    public let count: Int
    /// The features, sample after sample, `count · sampleSize` bytes.
    public let features: [UInt8]
    /// The class of each sample, in 0..<classes.
    public let labels: [Int32]
    /// The number of classes.
    public let classes: Int

    /// The number of values in one sample.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    public init(sampleShape: [Int], features: [UInt8], labels: [Int32], classes: Int) {
        let size = sampleShape.reduce(1, *)
        precondition(size > 0 && features.count == labels.count * size,
                     "\(features.count) feature bytes for \(labels.count) samples of shape \(sampleShape)")
        self.sampleShape = sampleShape
        self.count = labels.count
        self.features = features
        self.labels = labels
        self.classes = classes
    }

    /// The samples in `range`, as a dataset of their own (a validation split, say).
    public func subset(_ range: Range<Int>) -> Dataset {
        let s = sampleSize
        return Dataset(sampleShape: sampleShape, features: Array(features[range.lowerBound * s ..< range.upperBound * s]),
                       labels: Array(labels[range]), classes: classes)
    }

    /// Gathers the samples at `indices` into `x` as `byte · transform.scale + transform.offset`,
    /// and their labels into `y`. Gather and conversion in one pass; no buffer is allocated when
    /// `x` is large enough already.
    ///
    /// A batch of at least `2 · gatherSlice` samples is shared between the matrix multiply's
    /// threads (`Parallel`), in consecutive slices: each sample is a cache miss (a random place
    /// in the features), so two threads wait for two at once. Each sample is converted on its own,
    /// so the slicing never changes a value.
    ///
    /// indices: (B) -> x: (B, sampleShape…), y: (B)
    public func gather(_ indices: UnsafeBufferPointer<Int>, transform: InputTransform,
                       into x: Tensor, labels y: UnsafeMutablePointer<Int32>) {
        let s = sampleSize, scale = transform.scale, offset = transform.offset
        x.reshape(batch: indices.count, sample: sampleShape)
        guard !indices.isEmpty else { return }
        let xData = x.data
        features.withUnsafeBufferPointer { f in
            labels.withUnsafeBufferPointer { l in
                let f = f.baseAddress!, l = l.baseAddress!
                Parallel.forEachSlice(indices.count, minimumSlice: Dataset.gatherSlice, maximumParts: Parallel.threads) { r in
                    for b in r {
                        let i = indices[b]
                        VectorOps.bytesToFloats(f + i * s, xData + b * s, s, scale: scale, offset: offset)
                        y[b] = l[i]
                    }
                }
            }
        }
    }

    /// The fewest samples `gather` hands to a thread.
    static let gatherSlice = 16
}

/// How a sample's bytes become the network's input: x = byte · scale + offset.
/// Saved with the model, so a model file alone says how to feed it.
public struct InputTransform: Sendable, Equatable {
    public var scale: Float
    public var offset: Float

    public init(scale: Float, offset: Float = 0) {
        self.scale = scale
        self.offset = offset
    }

    /// Bytes 0…255 to 0…1.
    public static let unit = InputTransform(scale: 1 / 255)
    /// The bytes as they are, 0…255 (as one tutorial feeds its network).
    public static let raw = InputTransform(scale: 1)
}
