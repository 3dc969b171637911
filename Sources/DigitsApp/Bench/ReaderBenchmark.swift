import DigitsCore
import DigitsData
import DigitsVision
import Foundation

/// `digits bench --only reader`: how long the shipped reader takes to read one image on the
/// command line, once loaded (issue 14 asks for at most 2 ms).
///
/// Two figures, each the median of many single-image readings (other programs share the CPU):
/// a prepared 28×28 digit through the network alone, and a whole picture — a 140×140 JPEG photo
/// of a digit — decoded, prepared as `digits predict` prepares it, and read. The reader is read
/// as its file says (with test-time augmentation when it asks for it), and the prepared digit is
/// also timed the other way, side by side: the image alone, or with `TestTimeAugmentation.standard`.
public enum ReaderBenchmark {
    /// One line for `digits bench`, or a line saying why it could not run.
    public static func run(images: Int = 200) throws(AppError) -> String {
        guard let path = ShippedReader.path else { return "reader: no shipped reader in this build" }
        let loadStart = ContinuousClock.now
        let model = try TrainedModel.load(from: path)
        let loadTime = ContinuousClock.now - loadStart
        var other = model
        other.testTimeAugmentation = model.testTimeAugmentation == nil ? .standard : nil
        let test: Dataset
        do {
            let set = try MNIST.loadBundled().test
            test = Dataset(sampleShape: [784], features: set.pixels, labels: set.labels.map { Int32($0) }, classes: 10)
        } catch { throw AppError(error.description) }
        let n = max(1, min(images, test.count))
        // Warm up: the first forward pass allocates the layers' buffers.
        _ = model.predict(Array(test.features[0..<784]))

        _ = other.predict(Array(test.features[0..<784]))

        var network: [Double] = [], otherNetwork: [Double] = []
        for i in 0..<n {
            let sample = Array(test.features[(i * 784)..<((i + 1) * 784)])
            var start = ContinuousClock.now
            _ = model.predict(sample)
            network.append(milliseconds(ContinuousClock.now - start))
            start = ContinuousClock.now
            _ = other.predict(sample)
            otherNetwork.append(milliseconds(ContinuousClock.now - start))
        }
        let photos = try RealisticChecks.makeSet(.penPhoto, count: min(n, 50), seed: 1, mnistTest: test, committed: nil)
        var whole: [Double] = [], otherWhole: [Double] = []
        for photo in photos {
            var start = ContinuousClock.now
            _ = try model.reading(imageBytes: photo.bytes, name: photo.name, modelPath: path)
            whole.append(milliseconds(ContinuousClock.now - start))
            start = ContinuousClock.now
            _ = try other.reading(imageBytes: photo.bytes, name: photo.name, modelPath: path)
            otherWhole.append(milliseconds(ContinuousClock.now - start))
        }
        func how(_ m: TrainedModel) -> String {
            m.testTimeAugmentation.map { "with test-time augmentation, \($0.count) views" } ?? "the image alone"
        }
        return String(format: "reader (%@): one prepared 28×28 digit %.2f ms (median of %d, fastest %.2f); a whole photo (JPEG 112-196 px: decode, prepare, read) %.2f ms (median of %d); loading the model %.0f ms; beside it, %@: %.2f ms a prepared digit, %.2f ms a whole photo",
                      how(model), median(network), network.count, network.min() ?? 0, median(whole), whole.count, milliseconds(loadTime),
                      how(other), median(otherNetwork), median(otherWhole))
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
}
