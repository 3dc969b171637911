import DigitsApp
import DigitsCore
import Foundation
import Hummingbird
import NIOCore

// MARK: - Training from the page

extension API {
    struct PresetInfo: Codable {
        var name: String; var summary: String; var epochs: Int?; var learningRate: Double; var batchSize: Int
    }

    func presets() -> Response {
        Studio.json(Presets.all.map { p in
            let epochs: Int? = if case .epochs(let e) = p.recipe.plan.length { e } else { nil }
            return PresetInfo(name: p.name, summary: p.summary, epochs: epochs,
                              learningRate: Double("\(p.recipe.plan.learningRate)") ?? 0, batchSize: p.recipe.plan.batchSize)
        })
    }

    /// `{"preset": "fast", "epochs": 2, "learningRate": 0.001, "batchSize": 64, "name": "my-net"}`;
    /// everything but the preset is optional.
    struct TrainBody: Codable {
        var preset: String
        var epochs: Int?
        var learningRate: Double?
        var batchSize: Int?
        var name: String?
    }

    /// The recipe a request asks for, checked.
    static func recipe(_ body: TrainBody) throws(APIError) -> Recipe {
        guard let preset = Presets.named(body.preset) else {
            throw .notFound("no preset named '\(body.preset)'; choose from: \(Presets.all.map(\.name).joined(separator: ", "))")
        }
        var r = preset.recipe
        if let e = body.epochs {
            guard (1...50).contains(e) else { throw .badRequest("epochs must be between 1 and 50") }
            r.plan.length = .epochs(e)
        }
        if let lr = body.learningRate {
            guard lr > 0, lr <= 10, lr.isFinite else { throw .badRequest("learningRate must be above 0 and at most 10") }
            r.plan.learningRate = Float(lr)
        }
        if let b = body.batchSize {
            guard (1...4096).contains(b) else { throw .badRequest("batchSize must be between 1 and 4096") }
            r.plan.batchSize = b
        }
        do { try r.validate() } catch { throw .badRequest(error.description) }
        return r
    }

    struct Started: Codable { var name: String; var preset: String; var epochs: Int }

    func train(_ request: Request) async throws -> Response {
        let body = try await decode(TrainBody.self, request)
        let recipe = try Self.recipe(body)
        let name: String
        if let given = body.name {
            name = try Names.checked(given, what: "the model name")
            if state.exists(name) { throw APIError.conflict("a model named '\(name)' exists already: choose another name") }
        } else {
            name = state.freeName(body.preset)
        }
        let stop = try state.beginJob(name: name, kind: "training")
        let epochs = TrainingRun.reportCount(recipe.plan)
        state.events.reset()
        state.events.publish(jsonLine(Event(type: "start", name: name, preset: body.preset, epochs: epochs)))
        let state = self.state, preset = body.preset
        let thread = Thread {
            defer { state.endJob() }
            Self.runTraining(state: state, recipe: recipe, name: name, preset: preset, stop: stop)
        }
        thread.stackSize = 8 << 20
        thread.start()
        return Studio.json(Started(name: name, preset: body.preset, epochs: epochs), status: .accepted)
    }

    /// One training event, as the stream sends it (`type`: start, progress, epoch, done, stopped, error).
    struct Event: Codable {
        var type: String
        var name: String?
        var preset: String?
        var epoch: Int?
        var epochs: Int?
        var step: Int?
        var steps: Int?
        var samplesPerSecond: Double?
        var trainLoss: Double?
        var trainAccuracy: Double?
        var testLoss: Double?
        var testAccuracy: Double?
        var seconds: Double?
        var message: String?
    }

    private static func runTraining(state: StudioState, recipe: Recipe, name: String, preset: String, stop: StopFlag) {
        let hub = state.events
        do {
            var test = state.mnist.test, train = state.mnist.train
            test.sampleShape = recipe.inputShape
            train.sampleShape = recipe.inputShape
            let outcome = try TrainingRun.run(recipe: recipe, name: preset, train: train, test: test, stop: stop) { event in
                switch event {
                case let .progress(epoch, epochs, step, steps, rate):
                    hub.publish(jsonLine(Event(type: "progress", name: name, epoch: epoch, epochs: epochs, step: step, steps: steps,
                                               samplesPerSecond: rate.rounded())), isProgress: true)
                case let .report(r, epochs):
                    hub.publish(jsonLine(Event(type: "epoch", name: name, epoch: r.epoch, epochs: epochs,
                                               trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy,
                                               testLoss: r.testLoss, testAccuracy: r.testAccuracy, seconds: r.seconds)))
                }
            }
            switch outcome {
            case let .finished(model, accuracy):
                let path = state.modelsDirectory.appendingPathComponent("\(name).safetensors").path
                try model.save(to: path)
                state.install(model, name: name, path: path)
                hub.publish(jsonLine(Event(type: "done", name: name, testAccuracy: accuracy,
                                           message: "saved to \(path); the page now reads with it")))
            case .stopped:
                hub.publish(jsonLine(Event(type: "stopped", name: name, message: "stopped: the model in use did not change")))
            }
        } catch {
            hub.publish(jsonLine(Event(type: "error", name: name, message: error.description)))
        }
    }

    struct Status: Codable { var running: Bool; var name: String?; var kind: String?; var model: String }

    func trainingStatus() -> Response {
        let job = state.runningJob
        return Studio.json(Status(running: job != nil, name: job?.name, kind: job?.kind, model: state.modelName))
    }

    func stopTraining() throws -> Response {
        guard state.stopJob() else { throw APIError.conflict("no training is running") }
        return Studio.json(["stopping": true])
    }

    /// Server-sent events: one `data:` line of JSON per event, a comment every 15 s to keep
    /// the connection open.
    func events() -> Response {
        let stream = state.events.subscribe()
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for await event in stream {
                try await writer.write(ByteBuffer(string: event.isEmpty ? ": keep-alive\n\n" : "data: \(event)\n\n"))
            }
            try await writer.finish(nil)
        })
    }
}
