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

    /// counts[true][predicted].
    public func confusionMatrix(labels: [Int32], classes: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (t, p) in zip(labels, predictions) { m[Int(t)][Int(p)] += 1 }
        return m
    }
}

/// Runs a model over a dataset without training.
public enum Evaluator {
    /// Loss, accuracy and predictions of `model` on `data`, `chunk` samples at a time.
    public static func evaluate(_ model: Sequential, loss: any Loss, on data: Dataset, transform: InputTransform,
                                chunk: Int = 1000) -> Evaluation {
        let x = Tensor(shape: [0])
        let n = data.count, chunk = max(1, min(chunk, n))
        var indices = [Int](repeating: 0, count: chunk)
        var labels = [Int32](repeating: 0, count: chunk)
        var perSample = [Float](repeating: 0, count: chunk)
        var predictions = [Int32](repeating: 0, count: n)
        var lossSum = 0.0, correct = 0
        var start = 0
        while start < n {
            let b = min(chunk, n - start)
            for i in 0..<b { indices[i] = start + i }
            indices.withUnsafeBufferPointer { idx in
                data.gather(UnsafeBufferPointer(rebasing: idx[0..<b]), transform: transform, into: x, labels: &labels)
            }
            let out = model.forward(x, training: false)
            loss.forward(output: out, labels: labels, perSample: &perSample)
            let k = out.columns
            for i in 0..<b {
                lossSum += Double(perSample[i])
                let p = Int32(argmax(out.data + i * k, k))
                predictions[start + i] = p
                if p == labels[i] { correct += 1 }
            }
            start += b
        }
        return Evaluation(loss: lossSum / Double(max(n, 1)), accuracy: Double(correct) / Double(max(n, 1)),
                          count: n, predictions: predictions)
    }
}

/// The index of the largest of `k` values (the first, on ties).
@inlinable
public func argmax(_ p: UnsafePointer<Float>, _ k: Int) -> Int {
    var best = 0
    for j in 1..<max(k, 1) where p[j] > p[best] { best = j }
    return best
}
