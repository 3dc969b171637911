/// Re-estimating BatchNorm's running statistics for the weights a network has now.
///
/// During training each `BatchNorm` layer keeps a moving average of its batches' mean and
/// variance, taken with the weights of the moment and on the images as training saw them
/// (distorted, when the plan augments). Two things can leave those statistics out of step with
/// the network that is read: weights that were averaged afterwards (`WeightAveraging`: SWA's
/// `bn_update` recomputes them for this reason), and augmentation heavier than the images read
/// later. `recompute` replaces them with the statistics of the network as it is, on the images
/// given (for the reader: the training images, undistorted):
///
///     μ_c  = (1/K) Σ_k mean_k(x_c)          σ²_c = (1/K) Σ_k var_k(x_c)   (unbiased, as training's)
///
/// over K batches read in order, each layer normalising by its batch's statistics as in training
/// (PyTorch's `update_bn` does the same). The batches are the samples in order, so the result
/// depends on nothing random; each layer's statistics are its forward pass's, the same on any
/// number of threads.
public enum BatchNormStatistics {
    /// Replaces the running mean and variance of every `BatchNorm` layer of `model` by the mean,
    /// over the batches of `data` (in order, `batchSize` samples at a time, at most `batches`
    /// batches), of each batch's statistics. Layers before the first BatchNorm are run forward
    /// in training mode too (dropout included, which draws from its generator). Returns the
    /// number of batches read (0 leaves the model as it was).
    @discardableResult
    public static func recompute(_ model: Sequential, on data: Dataset, transform: InputTransform,
                                 batchSize: Int = 128, batches: Int? = nil) -> Int {
        // (A layer with momentum 0 never moves its statistics: it keeps them.)
        let layers = model.layers.compactMap { $0 as? BatchNorm }.filter { $0.momentum > 0 }
        let size = max(1, min(batchSize, data.count))
        let available = (data.count + size - 1) / size
        let k = min(available, max(0, batches ?? available))
        guard !layers.isEmpty, k > 0 else { return 0 }
        // Σ_k of each layer's batch mean and variance, in Double.
        var sums = layers.map { l in (mean: [Double](repeating: 0, count: l.channels), variance: [Double](repeating: 0, count: l.channels)) }
        let x = Tensor(shape: [0])
        var labels = [Int32](repeating: 0, count: size)
        var indices = [Int](repeating: 0, count: size)
        for b in 0..<k {
            let n = min(size, data.count - b * size)
            for i in 0..<n { indices[i] = b * size + i }
            indices.withUnsafeBufferPointer { idx in
                data.gather(UnsafeBufferPointer(rebasing: idx[0..<n]), transform: transform, into: x, labels: &labels)
            }
            // From zero, a training forward leaves m · (the batch's statistic) in each running value.
            for l in layers {
                l.runningMean.value.zero()
                l.runningVariance.value.zero()
            }
            _ = model.forward(x, training: true)
            for (j, l) in layers.enumerated() {
                let m = Double(l.momentum)
                for c in 0..<l.channels {
                    sums[j].mean[c] += Double(l.runningMean.value.data[c]) / m
                    sums[j].variance[c] += Double(l.runningVariance.value.data[c]) / m
                }
            }
        }
        for (j, l) in layers.enumerated() {
            for c in 0..<l.channels {
                l.runningMean.value.data[c] = Float(sums[j].mean[c] / Double(k))
                l.runningVariance.value.data[c] = Float(sums[j].variance[c] / Double(k))
            }
        }
        return k
    }
}
