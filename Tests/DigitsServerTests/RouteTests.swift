import DigitsApp
import DigitsData
import DigitsVision
@testable import DigitsServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Digits Studio routes")
struct RouteTests {
    // MARK: - The page and health

    @Test("GET / serves the page, its assets, and /healthz answers")
    func pageAndHealth() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: r.body).contains("<canvas id=\"pad\""))
            }
            for asset in ["studio.js", "studio.css", "favicon.svg"] {
                try await client.execute(uri: "/assets/\(asset)", method: .get) { r in
                    #expect(r.status == .ok, "\(asset)")
                    #expect(r.body.readableBytes > 100)
                }
            }
            try await client.execute(uri: "/assets/..%2Fstudio.js", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/assets/nothing.js", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/healthz", method: .get) { r in
                #expect(r.status == .ok)
                #expect(Support.json(r.body)["status"] as? String == "ok")
            }
        }
    }

    // MARK: - Predict

    @Test("POST /api/predict reads a drawn 7 (PNG) with the prepared 28×28 and the layer outputs")
    func predictPNG() async throws {
        let state = try Support.state(best: true)
        let png = try Support.sevenPNG()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/predict?layers=1", method: .post, headers: [.contentType: "image/png"],
                                     body: ByteBuffer(bytes: png)) { r in
                #expect(r.status == .ok)
                let body = Support.json(r.body)
                #expect(body["digit"] as? Int == 7)
                let p = body["probabilities"] as? [Double] ?? []
                #expect(p.count == 10)
                #expect(abs(p.reduce(0, +) - 1) < 1e-3)
                #expect((body["certainty"] as? Double ?? 0) > 0.6)
                let prepared = body["prepared"] as? [Int] ?? []
                #expect(prepared.count == 784)
                #expect(prepared.max() ?? 0 > 200, "ink is bright in the prepared image")
                // Same preparation as `digits predict`: DigitsVision's.
                let image = try ImageIO.decode(png, name: "7")
                #expect(prepared == (try DigitPreparation.prepare(image)).map(Int.init))
                let layers = body["layers"] as? [[String: Any]] ?? []
                #expect(layers.count > 5)
                #expect((layers.first?["shape"] as? [Int])?.count == 3, "a convolution's maps")
                #expect((layers.last?["shape"] as? [Int]) == [10])
            }
        }
    }

    @Test("POST /api/predict takes JSON grey pixels and refuses malformed ones with 400")
    func predictJSON() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            var pixels = [Int](repeating: 255, count: 40 * 40)
            for y in 8..<32 { for x in 18..<23 { pixels[y * 40 + x] = 0 } }
            let good = "{\"width\":40,\"height\":40,\"pixels\":\(pixels),\"layers\":true}"
            try await client.execute(uri: "/api/predict", method: .post, headers: Support.jsonHeaders, body: Support.body(good)) { r in
                #expect(r.status == .ok)
                let body = Support.json(r.body)
                #expect((body["prepared"] as? [Int])?.count == 784)
                #expect((body["layers"] as? [Any])?.count == 3, "784-16-10: dense, ReLU, dense")
            }
            let bad: [(String, String)] = [
                ("{\"width\":40,\"height\":40", "malformed JSON"),
                ("{\"width\":40,\"pixels\":[]}", "missing field \"height\""),
                ("{\"width\":2,\"height\":2,\"pixels\":[1,2,3]}", "pixels has 3 values"),
                ("{\"width\":1,\"height\":1,\"pixels\":[300]}", "0-255"),
                ("{\"width\":0,\"height\":5,\"pixels\":[]}", "between 1 and"),
                ("{\"width\":100000,\"height\":100000,\"pixels\":[]}", "between 1 and"),
                ("{\"width\":2,\"height\":2,\"pixels\":[255,255,255,255]}", "no ink"),
                ("{\"width\":\"a\",\"height\":2,\"pixels\":[]}", "wrong type"),
            ]
            for (text, expected) in bad {
                try await client.execute(uri: "/api/predict", method: .post, headers: Support.jsonHeaders, body: Support.body(text)) { r in
                    #expect(r.status == .badRequest, "\(text)")
                    let message = Support.json(r.body)["error"] as? String ?? ""
                    #expect(message.contains(expected), "\(text) → \(message)")
                }
            }
        }
    }

    @Test("POST /api/predict: broken images, an empty body → 400; a body over 5 MB → 413")
    func predictBadBodies() async throws {
        let state = try Support.state()
        let png = try Support.sevenPNG()
        try await Support.app(state).test(.router) { client in
            let bodies: [(HTTPFields, [UInt8], String)] = [
                ([.contentType: "image/png"], Array("not an image at all".utf8), "not an image"),
                ([.contentType: "image/png"], Array(png.prefix(png.count / 2)), "uploaded image"),
                ([.contentType: "image/jpeg"], [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46], "uploaded image"),
                ([.contentType: "image/png"], [], "empty"),
            ]
            for (headers, bytes, expected) in bodies {
                try await client.execute(uri: "/api/predict", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { r in
                    #expect(r.status == .badRequest)
                    let message = Support.json(r.body)["error"] as? String ?? ""
                    #expect(message.contains(expected), "\(message)")
                }
            }
            let huge = ByteBuffer(repeating: 0x41, count: Studio.bodyLimit + 1)
            try await client.execute(uri: "/api/predict", method: .post, headers: [.contentType: "image/png"], body: huge) { r in
                #expect(r.status == .contentTooLarge)
                #expect((Support.json(r.body)["error"] as? String)?.contains("5 MB") == true)
            }
        }
    }

    // MARK: - Models

    @Test("GET /api/model summarises the model; /api/models lists and switches; unknown → 404, bad names → 400")
    func models() async throws {
        let state = try Support.state()
        let other = try Support.smallModel(in: state.modelsDirectory)
        #expect(other.hasSuffix("small.safetensors"))
        try FileManager.default.moveItem(atPath: other, toPath: state.modelsDirectory.appendingPathComponent("other.safetensors").path)
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/model", method: .get) { r in
                #expect(r.status == .ok)
                let body = Support.json(r.body)
                #expect(body["parameters"] as? Int == 784 * 16 + 16 + 16 * 10 + 10)
                #expect((body["layers"] as? [Any])?.count == 3, "dense, ReLU, dense")
                let weights = body["weights"] as? [String: Any] ?? [:]
                #expect((weights["images"] as? [[Double]])?.count == 16)
                #expect((weights["images"] as? [[Double]])?.first?.count == 784)
            }
            try await client.execute(uri: "/api/models", method: .get) { r in
                let names = (Support.json(r.body)["models"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(names == ["other", "small"])
                #expect(Support.json(r.body)["current"] as? String == "small")
            }
            try await client.execute(uri: "/api/models/select", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"name\":\"other\"}")) { r in
                #expect(r.status == .ok)
                #expect(Support.json(r.body)["current"] as? String == "other")
            }
            try await client.execute(uri: "/api/models/select", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"name\":\"nope\"}")) { r in
                #expect(r.status == .notFound)
                #expect((Support.json(r.body)["error"] as? String)?.contains("nope") == true)
            }
            for name in ["../../etc/passwd", "/etc/passwd", "..", ".hidden", "a/b", "", String(repeating: "x", count: 65)] {
                try await client.execute(uri: "/api/models/select", method: .post, headers: Support.jsonHeaders,
                                         body: Support.body("{\"name\":\"\(name)\"}")) { r in
                    #expect(r.status == .badRequest, "\(name)")
                }
            }
            try await client.execute(uri: "/api/models/select", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"nam\":1}")) { r in #expect(r.status == .badRequest) }
            // A damaged model file is refused with 422, naming the file, and the model in use stays.
            try Data("not a model".utf8).write(to: state.modelsDirectory.appendingPathComponent("broken.safetensors"))
            try await client.execute(uri: "/api/models/select", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"name\":\"broken\"}")) { r in
                #expect(r.status == .unprocessableContent)
                #expect((Support.json(r.body)["error"] as? String)?.contains("broken.safetensors") == true)
            }
        }
        #expect(state.modelName == "other")
    }

    @Test("POST /api/models/delete deletes a saved model; the model in use, the launch file and unknown or bad names are refused")
    func deleteModel() async throws {
        let state = try Support.state()
        let launchFile = state.modelName   // "small", the file given at launch: beside the data directory, not in it
        let saved = try Support.smallModel(in: state.modelsDirectory)
        let otherPath = state.modelsDirectory.appendingPathComponent("other.safetensors").path
        try FileManager.default.moveItem(atPath: saved, toPath: otherPath)
        @Sendable func delete(_ name: String) -> ByteBuffer { Support.body("{\"name\":\"\(name)\"}") }
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/models", method: .get) { r in
                let models = Support.json(r.body)["models"] as? [[String: Any]] ?? []
                let deletable = Dictionary(uniqueKeysWithValues: models.compactMap { m in
                    (m["name"] as? String).map { ($0, m["deletable"] as? Bool) } })
                #expect(deletable == ["other": true, launchFile: false])
            }
            // The model in use: 409, and its file stays.
            try await client.execute(uri: "/api/models/delete", method: .post, headers: Support.jsonHeaders, body: delete(launchFile)) { r in
                #expect(r.status == .conflict)
                #expect((Support.json(r.body)["error"] as? String)?.contains("in use") == true)
            }
            try await client.execute(uri: "/api/models/delete", method: .post, headers: Support.jsonHeaders, body: delete("other")) { r in
                #expect(r.status == .ok)
                let names = (Support.json(r.body)["models"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(names == [launchFile])
            }
            #expect(!FileManager.default.fileExists(atPath: otherPath))
            try await client.execute(uri: "/api/models/delete", method: .post, headers: Support.jsonHeaders, body: delete("other")) { r in
                #expect(r.status == .notFound)
            }
            for name in ["../../etc/passwd", "/etc/passwd", "..", ".hidden", "a/b", ""] {
                try await client.execute(uri: "/api/models/delete", method: .post, headers: Support.jsonHeaders, body: delete(name)) { r in
                    #expect(r.status == .badRequest, "\(name)")
                }
            }
        }
        #expect(state.modelName == launchFile)
    }

    @Test("A model whose file was given at launch is not deleted, even when another model is in use")
    func deleteLaunchFile() async throws {
        let state = try Support.state()
        let launchFile = state.modelName
        let saved = try Support.smallModel(in: state.modelsDirectory)
        try FileManager.default.moveItem(atPath: saved, toPath: state.modelsDirectory.appendingPathComponent("other.safetensors").path)
        try state.select("other")
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/models/delete", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"name\":\"\(launchFile)\"}")) { r in
                #expect(r.status == .conflict)
                #expect((Support.json(r.body)["error"] as? String)?.contains("given at launch") == true)
            }
        }
    }

    @Test("The launch file is not deleted when it lies in the data directory either")
    func deleteLaunchFileInDataDirectory() async throws {
        let directory = Support.temporaryDirectory()
        let data = directory.appendingPathComponent("data")
        let models = data.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let launch = try Support.smallModel(in: models)   // digits serve --model data/models/small.safetensors
        let state = try StudioState(dataDirectory: data, model: TrainedModel.load(from: launch), modelPath: launch, mnist: Support.mnist)
        let other = try Support.smallModel(in: directory)
        try FileManager.default.moveItem(atPath: other, toPath: models.appendingPathComponent("other.safetensors").path)
        try state.select("other")
        #expect(state.modelList().first { $0.name == "small" }?.deletable == false)
        #expect(throws: APIError.self) { try state.delete("small") }
        #expect(FileManager.default.fileExists(atPath: launch))
    }

    // MARK: - Training

    @Test("POST /api/train trains, refuses a second run with 409, streams its events, and the new model is used")
    func train() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/presets", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("\"fast\""))
            }
            // While a job runs (held here, so that the check does not race a short training),
            // another training or a fine-tuning is refused with 409.
            _ = try state.beginJob(name: "held", kind: "training")
            try await client.execute(uri: "/api/train", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"preset\":\"mlp\"}")) { r in
                #expect(r.status == .conflict)
                #expect((Support.json(r.body)["error"] as? String)?.contains("running") == true)
            }
            try await client.execute(uri: "/api/finetune", method: .post, headers: Support.jsonHeaders, body: Support.body("{}")) { r in
                #expect(r.status == .badRequest || r.status == .conflict)
            }
            state.endJob()
            let start = "{\"preset\":\"tutorial-softmax-regression\",\"epochs\":1,\"name\":\"quick\"}"
            try await client.execute(uri: "/api/train", method: .post, headers: Support.jsonHeaders, body: Support.body(start)) { r in
                #expect(r.status == .accepted)
                #expect(Support.json(r.body)["name"] as? String == "quick")
            }
            var running = true
            for _ in 0..<600 where running {
                try await Task.sleep(for: .milliseconds(100))
                running = state.runningJob != nil
            }
            #expect(!running)
            #expect(state.modelName == "quick")
            // The event stream replays the run to a new listener; end it to read it whole.
            Task { try await Task.sleep(for: .milliseconds(300)); state.finishEventStreams() }
            try await client.execute(uri: "/api/train/events", method: .get) { r in
                #expect(r.headers[.contentType] == "text/event-stream")
                let text = String(buffer: r.body)
                #expect(text.contains("data: {"))
                #expect(text.contains("\"type\":\"start\""))
                #expect(text.contains("\"type\":\"epoch\""))
                #expect(text.contains("\"type\":\"done\""))
            }
            try await client.execute(uri: "/api/train", method: .post, headers: Support.jsonHeaders, body: Support.body(start)) { r in
                #expect(r.status == .conflict, "the name is taken")
            }
        }
        #expect(FileManager.default.fileExists(atPath: state.modelsDirectory.appendingPathComponent("quick.safetensors").path))
    }

    @Test("POST /api/train/stop stops a run; bad training requests are refused")
    func stopAndRefuse() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/train/stop", method: .post) { r in #expect(r.status == .conflict) }
            try await client.execute(uri: "/api/train", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"preset\":\"mlp\",\"epochs\":20,\"name\":\"long\"}")) { r in
                #expect(r.status == .accepted)
            }
            try await client.execute(uri: "/api/train/stop", method: .post) { r in #expect(r.status == .ok) }
            var running = true
            for _ in 0..<300 where running {
                try await Task.sleep(for: .milliseconds(100))
                running = state.runningJob != nil
            }
            #expect(!running)
            #expect(state.modelName == "small", "a stopped run leaves the model in use")
            let refused: [(String, HTTPResponse.Status)] = [
                ("{\"preset\":\"nope\"}", .notFound),
                ("{\"preset\":\"mlp\",\"epochs\":0}", .badRequest),
                ("{\"preset\":\"mlp\",\"epochs\":1000000}", .badRequest),
                ("{\"preset\":\"mlp\",\"learningRate\":-1}", .badRequest),
                ("{\"preset\":\"mlp\",\"batchSize\":0}", .badRequest),
                ("{\"preset\":\"mlp\",\"name\":\"../x\"}", .badRequest),
                ("{\"preset\":\"mlp\",\"name\":\"/tmp/x\"}", .badRequest),
                ("{\"epochs\":1}", .badRequest),
                ("[1,2", .badRequest),
            ]
            for (text, status) in refused {
                try await client.execute(uri: "/api/train", method: .post, headers: Support.jsonHeaders, body: Support.body(text)) { r in
                    #expect(r.status == status, "\(text)")
                    #expect(Support.json(r.body)["error"] is String)
                }
            }
        }
    }

    // MARK: - Examples and fine-tuning

    @Test("POST /api/examples stores labelled digits on disk as IDX; POST /api/finetune learns them")
    func examplesAndFinetune() async throws {
        let state = try Support.state()
        let test = Support.mnist.test
        let sevens = test.labels.indices.filter { test.labels[$0] == 7 }.prefix(3).map { i in
            test.features[(i * 784)..<((i + 1) * 784)].map(Int.init)
        }
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/finetune", method: .post) { r in
                #expect(r.status == .badRequest)
                #expect((Support.json(r.body)["error"] as? String)?.contains("no examples") == true)
            }
            for (i, pixels) in sevens.enumerated() {
                try await client.execute(uri: "/api/examples", method: .post, headers: Support.jsonHeaders,
                                         body: Support.body("{\"label\":7,\"prepared\":\(pixels)}")) { r in
                    #expect(r.status == .created)
                    #expect(Support.json(r.body)["count"] as? Int == i + 1)
                }
            }
            let refused = ["{\"label\":10,\"prepared\":\(sevens[0])}", "{\"label\":1,\"prepared\":[1,2]}",
                           "{\"label\":1,\"prepared\":\(sevens[0].map { $0 + 256 })}", "{\"label\":\"x\"}", "nonsense"]
            for text in refused {
                try await client.execute(uri: "/api/examples", method: .post, headers: Support.jsonHeaders, body: Support.body(text)) { r in
                    #expect(r.status == .badRequest, "\(text.prefix(40))")
                }
            }
            try await client.execute(uri: "/api/examples", method: .get) { r in
                #expect(Support.json(r.body)["count"] as? Int == 3)
            }
            try await client.execute(uri: "/api/finetune", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"steps\":0}")) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/api/finetune", method: .post, headers: Support.jsonHeaders,
                                     body: Support.body("{\"steps\":60}")) { r in
                #expect(r.status == .ok)
                let body = Support.json(r.body)
                #expect(body["examples"] as? Int == 3)
                #expect((body["readings"] as? [Any])?.count == 3)
                #expect(body["model"] as? String == "small-mine")
                // The small model is untrained: it reads none of the sevens before, all after.
                #expect(body["beforeCorrect"] as? Int == 0)
                #expect(body["afterCorrect"] as? Int == 3)
                #expect((0...1).contains(body["testAccuracy"] as? Double ?? -1))
            }
        }
        #expect(state.modelName == "small-mine")
        // What was acknowledged is on disk, as an IDX pair any MNIST reader takes.
        let set = try IDX.loadPair(images: state.examples.imagesURL, labels: state.examples.labelsURL)
        #expect(set.count == 3)
        #expect(set.labels == [7, 7, 7])
        #expect(set.pixels.map(Int.init) == sevens.flatMap { $0 })
    }

    // MARK: - The test set

    @Test("The test-set routes: random digits, the confusion matrix, a cell, the misclassified; bad parameters → 400")
    func testSet() async throws {
        let state = try Support.state()
        try await Support.app(state).test(.router) { client in
            try await client.execute(uri: "/api/testset/random?count=5&seed=3", method: .get) { r in
                #expect(r.status == .ok)
                let digits = Support.json(r.body)["digits"] as? [[String: Any]] ?? []
                #expect(digits.count == 5)
                #expect((digits.first?["pixels"] as? [Int])?.count == 784)
            }
            var matrix: [[Int]] = []
            try await client.execute(uri: "/api/testset/confusion", method: .get) { r in
                matrix = Support.json(r.body)["matrix"] as? [[Int]] ?? []
            }
            #expect(matrix.count == 10)
            #expect(matrix.flatMap { $0 }.reduce(0, +) == 10_000)
            try await client.execute(uri: "/api/testset/digits?label=3&predicted=\(matrix[3].firstIndex(of: matrix[3].max()!)!)&limit=4", method: .get) { r in
                let body = Support.json(r.body)
                #expect(body["total"] as? Int == matrix[3].max())
                #expect((body["digits"] as? [[String: Any]] ?? []).allSatisfy { $0["label"] as? Int == 3 })
            }
            try await client.execute(uri: "/api/testset/digits?wrong=1&limit=10", method: .get) { r in
                let digits = Support.json(r.body)["digits"] as? [[String: Any]] ?? []
                #expect(!digits.isEmpty)
                #expect(digits.allSatisfy { ($0["label"] as? Int) != ($0["digit"] as? Int) })
            }
            for query in ["random?count=0", "random?count=abc", "digits?label=12", "digits?limit=-1", "random?seed=-5"] {
                try await client.execute(uri: "/api/testset/\(query)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(query)")
                }
            }
        }
    }
}
