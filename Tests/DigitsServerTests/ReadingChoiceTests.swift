import DigitsApp
import DigitsCore
@testable import DigitsServer
import DigitsVision
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `digits serve --tta`, `--no-tta`, `--tta-views`: `POST /api/predict` reads with the views chosen,
/// as `digits predict` does with the same flags.
@Suite("Serving with test-time augmentation")
struct ReadingChoiceTests {
    /// A scribble no digit quite matches (dark ink on white, 40×40, as JSON grey pixels), so that
    /// its readings in different views differ at the four places the route answers with.
    static let scribble = scribble(seed: 3)

    /// A random scribble of 60 steps, drawn from `seed`.
    static func scribble(seed: UInt64) -> String {
        var pixels = [Int](repeating: 255, count: 40 * 40)
        var rng = RandomSource(seed: seed)
        var (x, y) = (20.0, 20.0)
        for _ in 0..<60 {
            x = min(max(x + Double(rng.uniform(-3, 3)), 6), 33); y = min(max(y + Double(rng.uniform(-3, 3)), 6), 33)
            for dy in -2...2 { for dx in -2...2 { pixels[(Int(y) + dy) * 40 + Int(x) + dx] = 0 } }
        }
        return "{\"width\":40,\"height\":40,\"pixels\":\(pixels)}"
    }

    /// The probabilities `/api/predict` answers for the scribble, served with `reading`, and the
    /// prepared 28×28 it read.
    static func served(_ reading: ReadingChoice) async throws -> (probabilities: [Double], prepared: [UInt8]) {
        let directory = Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = try StudioState(dataDirectory: directory.appendingPathComponent("data"),
                                    model: TrainedModel.load(from: Support.bestModelPath), modelPath: Support.bestModelPath,
                                    mnist: Support.mnist, reading: reading)
        return try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/predict", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body(Self.scribble)) { r in
                #expect(r.status == .ok)
                let body = Support.json(r.body)
                return (body["probabilities"] as? [Double] ?? [],
                        (body["prepared"] as? [Int] ?? []).map { UInt8(clamping: $0) })
            }
        }
    }

    /// What `TrainedModel.predict` gives for `prepared` read with `reading`, rounded as the route rounds.
    static func expected(_ reading: ReadingChoice, prepared: [UInt8]) throws -> [Double] {
        var model = try TrainedModel.load(from: Support.bestModelPath)
        reading.apply(to: &model)
        return model.predict(prepared).probabilities.map { jsonNumber($0, places: 10000) }
    }

    @Test("--tta reads the standard views, --tta-views the given ones, neither the image alone; each as predict reads them")
    func views() async throws {
        let choices = [ReadingChoice(), ReadingChoice(tta: true),
                       ReadingChoice(views: TestTimeAugmentation(views: [.init(shiftX: 2), .init(rotation: -10)]))]
        var answers: [[Double]] = []
        for choice in choices {
            let (answer, prepared) = try await Self.served(choice)
            #expect(answer.count == 10 && prepared.count == 784)
            #expect(answer == (try Self.expected(choice, prepared: prepared)), "\(choice)")
            answers.append(answer)
        }
        #expect(answers[0] != answers[1] && answers[0] != answers[2] && answers[1] != answers[2],
                "the three readings differ, so the views were applied")
    }

    @Test("GET /api/model's metadata says when the server reads with views (the page then reads through the server)",
          arguments: [(ReadingChoice(), false), (ReadingChoice(tta: true), true)])
    func summarySaysViews(reading: ReadingChoice, hasViews: Bool) async throws {
        let directory = Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = try StudioState(dataDirectory: directory.appendingPathComponent("data"),
                                    model: TrainedModel.load(from: Support.bestModelPath), modelPath: Support.bestModelPath,
                                    mnist: Support.mnist, reading: reading)
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/model", method: .get) { r in
                #expect(r.status == .ok)
                let metadata = Support.json(r.body)["metadata"] as? [String: String] ?? [:]
                #expect((metadata[TrainedModel.testTimeAugmentationKey] != nil) == hasViews, "\(metadata)")
            }
        }
    }

    @Test("--no-tta on a file with views reads the image alone")
    func noViews() throws {
        var model = try TrainedModel.load(from: Support.bestModelPath)
        model.testTimeAugmentation = .standard
        ReadingChoice(tta: false).apply(to: &model)
        #expect(model.testTimeAugmentation == nil)
        ReadingChoice().apply(to: &model)
        #expect(model.testTimeAugmentation == nil, "no flag leaves the file's option")
        model.testTimeAugmentation = .standard
        ReadingChoice(tta: true).apply(to: &model)
        #expect(model.testTimeAugmentation == .standard, "--tta keeps the file's views")
    }
}

@Suite("Flagging a reading as digits predict does")
struct FlaggingTests {
    /// `uncertain` and `warning` for the scribble, served with a model whose file says `metadata`.
    static func flagged(_ metadata: [String: String], views: TestTimeAugmentation? = nil,
                        picture: String = ReadingChoiceTests.scribble) async throws
        -> (uncertain: Bool, warning: String?, certainty: Double) {
        let directory = Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var model = try TrainedModel.load(from: Support.bestModelPath)
        model.testTimeAugmentation = views   // the file's option
        for (key, value) in metadata { model.metadata[key] = value }
        let state = try StudioState(dataDirectory: directory.appendingPathComponent("data"), model: model,
                                    modelPath: Support.bestModelPath, mnist: Support.mnist)
        return try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/predict", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body(picture)) { r in
                let body = Support.json(r.body)
                return (body["uncertain"] as? Bool ?? false, body["warning"] as? String, body["certainty"] as? Double ?? -1)
            }
        }
    }

    @Test("The model file's flag_below decides, as in digits predict; without it, 60 %")
    func flagBelow() async throws {
        let plain = try await Self.flagged([:])
        #expect(plain.certainty > 0 && plain.certainty < 1)
        #expect(plain.uncertain == (plain.certainty < 0.6))
        // A threshold just above the certainty flags it; one just below does not.
        let above = try await Self.flagged([TrainedModel.flagBelowKey: "\(Float(plain.certainty) + 0.01)"])
        #expect(above.uncertain && above.warning?.hasPrefix("low certainty") == true)
        let below = try await Self.flagged([TrainedModel.flagBelowKey: "\(Float(plain.certainty) - 0.01)"])
        #expect(!below.uncertain && below.warning == nil)
        // A damaged threshold is ignored (60 % again): one that would flip the reading if it were used.
        for damaged in [plain.uncertain ? "-0.5" : "7", "", "nan", "inf"] {
            #expect(try await Self.flagged([TrainedModel.flagBelowKey: damaged]).uncertain == plain.uncertain, "\(damaged)")
        }
    }

    @Test("Views that disagree are flagged when the model file says so, as in digits predict")
    func disagreement() async throws {
        let views = TestTimeAugmentation(views: [.init(shiftX: 2), .init(rotation: -10), .init(scale: 1.3)])
        var model = try TrainedModel.load(from: Support.bestModelPath)
        model.testTimeAugmentation = views
        model.metadata[TrainedModel.flagBelowKey] = "0"
        // The first scribble whose views read different digits.
        let scribble = try #require((UInt64(1)...200).lazy.map { ReadingChoiceTests.scribble(seed: $0) }.first { picture in
            guard let prepared = try? RequestDecoding.predict(Array(picture.utf8), contentType: "application/json").prepared else { return false }
            return !model.predict(prepared).viewsAgree
        })
        let flagged = try await Self.flagged([TrainedModel.flagBelowKey: "0", TrainedModel.flagDisagreementKey: "1"],
                                             views: views, picture: scribble)
        #expect(flagged.uncertain)
        #expect(flagged.warning?.hasPrefix(TrainedModel.disagreementWarning) == true)
        let unflagged = try await Self.flagged([TrainedModel.flagBelowKey: "0"], views: views, picture: scribble)
        #expect(!unflagged.uncertain)
    }
}

@Suite("The reading choice follows a change of model")
struct ReadingAfterSelectTests {
    @Test("After selecting another model, --tta reads it with the views and /api/model shows its metadata")
    func selectThenRead() async throws {
        let directory = Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let state = try StudioState(dataDirectory: data, model: TrainedModel.load(from: Support.bestModelPath),
                                    modelPath: Support.bestModelPath, mnist: Support.mnist, reading: ReadingChoice(tta: true))
        // Another network (small, untrained) with a flag threshold of its own.
        let small = try Support.smallModel(in: directory)
        var other = try TrainedModel.load(from: small)
        other.metadata[TrainedModel.flagBelowKey] = "0.25"
        try other.save(to: state.modelsDirectory.appendingPathComponent("other.safetensors").path)
        try state.select("other")
        var expected = other
        ReadingChoice(tta: true).apply(to: &expected)
        let (answer, model) = try await Support.app(state).test(.router) { client in
            let answer = try await client.execute(uri: "/api/predict", method: .post, headers: Support.jsonHeaders,
                                                  body: Support.body(ReadingChoiceTests.scribble)) { r in
                let body = Support.json(r.body)
                return (probabilities: body["probabilities"] as? [Double] ?? [], name: body["model"] as? String,
                        prepared: (body["prepared"] as? [Int] ?? []).map { UInt8(clamping: $0) })
            }
            let model = try await client.execute(uri: "/api/model", method: .get) { r in
                let body = Support.json(r.body)
                return (metadata: body["metadata"] as? [String: String] ?? [:], parameters: body["parameters"] as? Int)
            }
            return (answer, model)
        }
        #expect(answer.prepared.count == 784)
        #expect(answer.name == "other")
        #expect(answer.probabilities == expected.predict(answer.prepared).probabilities.map { jsonNumber($0, places: 10000) })
        #expect(answer.probabilities.count == 10)
        #expect(model.metadata["tta"] != nil)
        #expect(model.metadata[TrainedModel.flagBelowKey] == "0.25")
        #expect(model.parameters == other.model.parameterCount)
    }
}

@Suite("Fine-tuning drops a flag threshold")
struct FineTuningFlagTests {
    @Test("A model fine-tuned from a calibrated file no longer carries flag_below or the views' flag")
    func dropsFlags() throws {
        var model = try TrainedModel.load(from: Support.bestModelPath)
        model.metadata[TrainedModel.flagBelowKey] = "0.46"
        model.metadata[TrainedModel.flagDisagreementKey] = "1"
        let examples = (pixels: Array(Support.mnist.test.features[0..<(784 * 4)]), labels: Support.mnist.test.labels[0..<4].map { UInt8($0) })
        let result = try FineTuning.run(model, examples: examples, mnist: Support.mnist.train, settings: .init(steps: 2))
        #expect(result.model.metadata[TrainedModel.flagBelowKey] == nil)
        #expect(result.model.metadata[TrainedModel.flagDisagreementKey] == nil)
        #expect(result.model.metadata["fine_tuned_steps"] == "2")
    }
}
