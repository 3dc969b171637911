import DigitsApp
import DigitsCore
import Foundation
import Hummingbird

// MARK: - The person's examples and fine-tuning

extension API {
    struct Stored: Codable { var index: Int; var count: Int }

    /// `{"label": 7, "prepared": [784 values 0-255]}` (`RequestDecoding.example`).
    func addExample(_ request: Request) async throws -> Response {
        let example = try RequestDecoding.example(try await body(request))
        let index: Int
        do { index = try state.examples.append(pixels: example.pixels, label: example.label) } catch {
            throw APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "\(error)")
        }
        return Studio.json(Stored(index: index, count: state.examples.count), status: .created)
    }

    struct Example: Codable { var index: Int; var label: Int; var pixels: [Int] }
    struct ExampleList: Codable { var count: Int; var examples: [Example]; var directory: String }

    /// The most recent 100 examples.
    func exampleList() -> Response {
        let all = state.examples.all
        let n = all.labels.count
        let shown = (max(0, n - 100)..<n).map { i in
            Example(index: i, label: Int(all.labels[i]), pixels: all.pixels[(i * 784)..<((i + 1) * 784)].map(Int.init))
        }
        return Studio.json(ExampleList(count: n, examples: shown, directory: state.examples.directory.path))
    }

    /// `{"steps": 300}` (optional).
    struct FinetuneBody: Codable { var steps: Int? }
    struct Reading: Codable { var label: Int; var before: Int; var beforeCertainty: Double; var after: Int; var afterCertainty: Double }
    struct Finetuned: Codable {
        var model: String; var from: String; var examples: Int; var beforeCorrect: Int; var afterCorrect: Int
        var steps: Int; var seconds: Double; var testAccuracy: Double; var readings: [Reading]
    }

    func finetune(_ request: Request) async throws -> Response {
        let body = try await decode(FinetuneBody.self, request, allowEmpty: true)
        let steps = body.steps ?? FineTuning.Settings().steps
        guard (1...5000).contains(steps) else { throw APIError.badRequest("steps must be between 1 and 5000") }
        guard state.examples.count > 0 else {
            throw APIError.badRequest("there are no examples yet: correct a reading first (POST /api/examples)")
        }
        let stop = try state.beginJob(name: "fine-tuning", kind: "fine-tuning")
        let state = self.state
        let result: Result<Finetuned, APIError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                defer { state.endJob() }
                continuation.resume(returning: Self.runFinetune(state: state, steps: steps, stop: stop))
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return Studio.json(try result.get())
    }

    private static func runFinetune(state: StudioState, steps: Int, stop: StopFlag) -> Result<Finetuned, APIError> {
        do {
            let (from, model) = try state.copyOfCurrentModel()
            var mnist = state.mnist.train
            mnist.sampleShape = model.model.inputShape
            let result = try FineTuning.run(model, examples: state.examples.all, mnist: mnist,
                                            settings: .init(steps: steps), stop: stop)
            var test = state.mnist.test
            test.sampleShape = model.model.inputShape
            let accuracy = result.model.evaluate(on: test).accuracy
            var tuned = result.model
            tuned.metadata["test_accuracy"] = String(accuracy)
            let base = from.hasSuffix("-mine") ? from : "\(from)-mine"
            let name = state.freeName(String(base.prefix(Names.maximumLength - 4)))
            let path = state.modelsDirectory.appendingPathComponent("\(name).safetensors").path
            try tuned.save(to: path)
            state.install(tuned, name: name, path: path)
            let readings = result.labels.indices.map { i in
                Reading(label: result.labels[i], before: result.before[i].digit,
                        beforeCertainty: jsonNumber(result.before[i].confidence, places: 10000),
                        after: result.after[i].digit, afterCertainty: jsonNumber(result.after[i].confidence, places: 10000))
            }
            return .success(Finetuned(model: name, from: from, examples: result.labels.count, beforeCorrect: result.beforeCorrect,
                                      afterCorrect: result.afterCorrect, steps: steps, seconds: (result.seconds * 100).rounded() / 100,
                                      testAccuracy: accuracy, readings: readings))
        } catch {
            return .failure(APIError(.unprocessableContent, error.description))
        }
    }
}

// MARK: - The test set

extension API {
    struct TestDigit: Codable { var index: Int; var label: Int; var digit: Int; var certainty: Double; var pixels: [Int] }
    struct TestDigits: Codable { var model: String; var total: Int; var digits: [TestDigit] }

    private func digitsResponse(_ indices: [Int], total: Int) -> Response {
        let digits = state.withReadingModel { name, model in   // as POST /api/predict reads
            (name, indices.map { i in
                let pixels = state.testImage(i)
                let p = model.predict(pixels)
                return TestDigit(index: i, label: Int(state.mnist.test.labels[i]), digit: p.digit,
                                 certainty: jsonNumber(p.confidence, places: 10000), pixels: pixels.map(Int.init))
            })
        }
        return Studio.json(TestDigits(model: digits.0, total: total, digits: digits.1))
    }

    private func intParameter(_ request: Request, _ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(key) else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError.badRequest("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return n
    }

    /// `?count=12&seed=5`: random test digits with their readings.
    func randomTestDigits(_ request: Request) throws -> Response {
        let count = try intParameter(request, "count", default: 12, range: 1...100)
        let seed = try intParameter(request, "seed", default: Int.random(in: 0...1_000_000), range: 0...Int.max)
        var rng = RandomSource(seed: UInt64(seed))
        let n = state.mnist.test.count
        return digitsResponse((0..<count).map { _ in rng.index(below: n) }, total: n)
    }

    struct Confusion: Codable { var model: String; var accuracy: Double; var total: Int; var matrix: [[Int]] }

    func confusion() -> Response {
        let (name, predictions, labels) = state.testPredictions()
        var matrix = Array(repeating: Array(repeating: 0, count: 10), count: 10)
        for (p, l) in zip(predictions, labels) where (0..<10).contains(Int(p)) && (0..<10).contains(Int(l)) {
            matrix[Int(l)][Int(p)] += 1
        }
        let correct = (0..<10).reduce(0) { $0 + matrix[$1][$1] }
        return Studio.json(Confusion(model: name, accuracy: Double(correct) / Double(max(labels.count, 1)), total: labels.count, matrix: matrix))
    }

    /// `?label=L&predicted=P&limit=N` (each optional): test digits of that confusion-matrix cell;
    /// `?wrong=1` for the misclassified ones.
    func testDigits(_ request: Request) throws -> Response {
        let label = try request.uri.queryParameters.get("label").map { _ in try intParameter(request, "label", default: 0, range: 0...9) }
        let predicted = try request.uri.queryParameters.get("predicted").map { _ in try intParameter(request, "predicted", default: 0, range: 0...9) }
        let limit = try intParameter(request, "limit", default: 60, range: 1...500)
        let wrong = ["1", "true", "yes"].contains(request.uri.queryParameters.get("wrong") ?? "")
        let (_, predictions, labels) = state.testPredictions()
        let matching = labels.indices.filter { i in
            (label == nil || Int(labels[i]) == label) && (predicted == nil || Int(predictions[i]) == predicted)
                && (!wrong || labels[i] != predictions[i])
        }
        return digitsResponse(Array(matching.prefix(limit)), total: matching.count)
    }
}
