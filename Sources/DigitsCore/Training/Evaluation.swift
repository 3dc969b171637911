/// A model's loss and accuracy on a dataset, with what it predicted for each sample.
public struct Evaluation: Sendable {
    /// The mean loss per sample.
    public var loss: Double
    /// The fraction of samples whose highest-scoring class is the label.
    public var accuracy: Double
    /// The number of samples.
    public var count: Int
    /// The predicted class of each sample.
    public var predictions: [Int32]

    /// An evaluation with these figures (one computed outside `Evaluator`, say).
    public init(loss: Double, accuracy: Double, count: Int, predictions: [Int32]) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
        self.predictions = predictions
    }

    /// counts[true][predicted].
    public func confusionMatrix(labels: [Int32], classes: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (t, p) in zip(labels, predictions) { m[Int(t)][Int(p)] += 1 }
        return m
    }
}

/// Running totals of a model's loss and accuracy over batches, counted the same way in
/// training (`Trainer.trainStep`) and evaluation (`Evaluator`).
public struct Metrics: Sendable {
    /// The sum of the samples' losses.
    public private(set) var lossSum = 0.0
    /// How many samples' highest-scoring class was their label.
    public private(set) var correct = 0
    /// How many samples were added.
    public private(set) var count = 0

    public init() {}

    /// Metrics with these sums so far (a checkpoint's, to resume an interval part-way).
    public init(lossSum: Double, correct: Int, count: Int) {
        self.lossSum = lossSum
        self.correct = correct
        self.count = count
    }

    /// Adds a batch: the network's `output` (B, K), the B labels and the B per-sample losses;
    /// writes each sample's predicted class to `predictions` when given.
    public mutating func add(output: Tensor, labels: UnsafePointer<Int32>, losses: UnsafePointer<Float>,
                             predictions: UnsafeMutablePointer<Int32>? = nil) {
        let k = output.columns
        for i in 0..<output.rows {
            lossSum += Double(losses[i])
            let predicted = argmax(output.data + i * k, k)
            predictions?[i] = Int32(predicted)
            if predicted == Int(labels[i]) { correct += 1 }
        }
        count += output.rows
    }

    /// The mean loss per sample (0 for none).
    public var meanLoss: Double { lossSum / Double(max(count, 1)) }
    /// The fraction of samples classified correctly (0 for none).
    public var accuracy: Double { Double(correct) / Double(max(count, 1)) }
}

/// Runs a model over a dataset without training.
public enum Evaluator {
    /// Loss, accuracy and predictions of `model` on `data`, `chunk` samples at a time.
    ///
    /// A layer's buffers grow to the largest batch it has seen and stay that size, so the chunk
    /// sets the memory evaluation leaves behind: the default, 128, keeps a convolutional network
    /// near what training at batch 128 needs (1,000 at a time held several hundred megabytes
    /// more), and reads as fast.
    public static func evaluate(_ model: Sequential, loss: any Loss, on data: Dataset, transform: InputTransform,
                                chunk: Int = 128) -> Evaluation {
        let x = Tensor(shape: [0])
        let n = data.count, chunk = max(1, min(chunk, n))
        var indices = [Int](repeating: 0, count: chunk)
        var labels = [Int32](repeating: 0, count: chunk)
        var losses = [Float](repeating: 0, count: chunk)
        var predictions = [Int32](repeating: 0, count: n)
        var metrics = Metrics()
        var start = 0
        while start < n {
            let b = min(chunk, n - start)
            for i in 0..<b { indices[i] = start + i }
            indices.withUnsafeBufferPointer { idx in
                data.gather(UnsafeBufferPointer(rebasing: idx[0..<b]), transform: transform, into: x, labels: &labels)
            }
            let out = model.forward(x, training: false)
            loss.forward(output: out, labels: labels, perSample: &losses)
            predictions.withUnsafeMutableBufferPointer { p in
                metrics.add(output: out, labels: labels, losses: losses, predictions: p.baseAddress! + start)
            }
            start += b
        }
        return Evaluation(loss: metrics.meanLoss, accuracy: metrics.accuracy, count: n, predictions: predictions)
    }
}
/// The index of the largest of `k` values (the first, on ties).
@inlinable
public func argmax(_ p: UnsafePointer<Float>, _ k: Int) -> Int {
    var best = 0
    for j in 1..<max(k, 1) where p[j] > p[best] { best = j }
    return best
}
