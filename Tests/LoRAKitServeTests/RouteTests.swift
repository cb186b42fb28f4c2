import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import LoRAKitServe

/// Every route and every error status, in process on the real model.
@Suite struct RouteTests {
    static func app(_ options: ServerOptions = ServeFixture.options,
                    engine: Engine? = nil) throws -> some ApplicationProtocol {
        Application(router: ServeApplication.router(engine: try engine ?? ServeFixture.engine(), options: options))
    }

    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    /// The error body's shape and status.
    static func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, param: String? = nil) throws {
        #expect(response.status == status, "\(String(buffer: response.body))")
        let error = try #require(try object(response)["error"] as? [String: Any])
        #expect((error["message"] as? String)?.isEmpty == false)
        #expect(error["type"] is String)
        #expect(error.keys.contains("param") && error.keys.contains("code"))
        if let param { #expect(error["param"] as? String == param) }
    }

    @Test func healthModelsAndMetrics() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let data = try #require(try Self.object(response)["data"] as? [[String: Any]])
                let ids = data.compactMap { $0["id"] as? String }
                #expect(ids.first == ServeFixture.baseName)
                #expect(Set(ids).isSuperset(of: ServeFixture.adapters.keys))
                #expect(data.last?["parent"] as? String == ServeFixture.baseName)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                for name in ["lorakit_queue_depth", "lorakit_batch_rows", "lorakit_generation_tokens_total",
                             "lorakit_adapter_requests_total", "lorakit_http_requests_total"] {
                    #expect(text.contains("# TYPE \(name) "))
                }
            }
        }
    }

    @Test func completionWithUsageAndStop() async throws {
        try await Self.app().test(.router) { client in
            let body = #"{"model":"smollm2-135m","prompt":"The capital of France is","max_tokens":6,"temperature":0}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(body)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["object"] as? String == "text_completion")
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                #expect(choice["finish_reason"] as? String == "length")
                #expect((choice["text"] as? String)?.contains("Paris") == true)
                let usage = try #require(object["usage"] as? [String: Int])
                #expect(usage["completion_tokens"] == 6 && usage["prompt_tokens"] == 5 && usage["total_tokens"] == 11)
            }
            let stop = #"{"model":"qv","prompt":"The capital of France is","max_tokens":20,"temperature":0,"stop":["."]}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(stop)) { response in
                let choice = try #require((try Self.object(response)["choices"] as? [[String: Any]])?.first)
                #expect(choice["finish_reason"] as? String == "stop")
                #expect((choice["text"] as? String)?.contains(".") == false)
            }
        }
    }

    @Test func chatNonStreamingAndStreaming() async throws {
        try await Self.app().test(.router) { client in
            let body = #"{"model":"rs","messages":[{"role":"user","content":"Say hi"}],"max_tokens":5,"seed":7,"top_p":0.9}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: Self.json(body)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["object"] as? String == "chat.completion")
                #expect(object["model"] as? String == "rs")
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                #expect((choice["message"] as? [String: Any])?["role"] as? String == "assistant")
            }
            let streamed = #"{"model":"dora","messages":[{"role":"user","content":"Say hi"}],"max_tokens":5,"stream":true,"#
                + #""stream_options":{"include_usage":true},"temperature":0}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: Self.json(streamed)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.allSatisfy { $0.hasPrefix("data: ") })
                #expect(events.last == "data: [DONE]")
                let chunks = try events.dropLast().map {
                    try #require(try JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any])
                }
                #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
                let finish = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
                #expect(finish == ["length"])
                #expect((chunks.last?["usage"] as? [String: Int])?["completion_tokens"] == 5)
            }
        }
    }

    @Test func loadAndUnloadAdapter() async throws {
        try await Self.app().test(.router) { client in
            let path = ServeFixture.peft.appendingPathComponent("lora_qv").path
            let load = #"{"lora_name":"runtime-qv","lora_path":"\#(path)"}"#
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, body: Self.json(load)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, body: Self.json(load)) {
                try Self.expectError($0, .conflict)
            }
            let ask = #"{"model":"runtime-qv","prompt":"Hi","max_tokens":2}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(ask)) { #expect($0.status == .ok) }
            let unload = #"{"lora_name":"runtime-qv"}"#
            try await client.execute(uri: "/v1/unload_lora_adapter", method: .post, body: Self.json(unload)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(ask)) {
                try Self.expectError($0, .notFound, param: "model")
            }
            try await client.execute(uri: "/v1/unload_lora_adapter", method: .post, body: Self.json(unload)) {
                try Self.expectError($0, .notFound)
            }
            let broken = #"{"lora_name":"broken","lora_path":"/nonexistent/adapter"}"#
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, body: Self.json(broken)) {
                try Self.expectError($0, .badRequest)
            }
        }
    }

    /// (body, status, param) for /v1/chat/completions.
    static let badChats: [(String, HTTPResponse.Status, String?)] = [
        ("{not json", .badRequest, nil),
        ("[1,2]", .badRequest, nil),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, .unprocessableContent, "model"),
        (#"{"model":"smollm2-135m"}"#, .unprocessableContent, "messages"),
        (#"{"model":"smollm2-135m","messages":[]}"#, .unprocessableContent, "messages"),
        (#"{"model":"smollm2-135m","messages":"hi"}"#, .unprocessableContent, "messages"),
        (#"{"model":"smollm2-135m","messages":[{"role":"wizard","content":"x"}]}"#, .unprocessableContent, "messages[0].role"),
        (#"{"model":"smollm2-135m","messages":[{"content":"x"}]}"#, .unprocessableContent, "messages[0].role"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"temperature":5}"#, .unprocessableContent, "temperature"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, .unprocessableContent, "temperature"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"top_p":0}"#, .unprocessableContent, "top_p"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, .unprocessableContent, "max_tokens"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"max_tokens":100000}"#, .unprocessableContent, "max_tokens"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5}"#, .unprocessableContent, "max_tokens"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"n":3}"#, .unprocessableContent, "n"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"stop":[1]}"#, .unprocessableContent, "stop"),
        (#"{"model":"smollm2-135m","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#, .unprocessableContent, "stream"),
        (#"{"model":"no-such-adapter","messages":[{"role":"user","content":"x"}]}"#, .notFound, "model"),
    ]

    @Test func everyValidationError() async throws {
        try await Self.app().test(.router) { client in
            for (body, status, param) in Self.badChats {
                try await client.execute(uri: "/v1/chat/completions", method: .post, body: Self.json(body)) {
                    try Self.expectError($0, status, param: param)
                }
            }
            // The prompt does not fit the context with max_tokens.
            let long = String(repeating: "word ", count: 9000)
            let tooLong = #"{"model":"smollm2-135m","prompt":"\#(long)","max_tokens":4}"#
            var options = ServeFixture.options
            options.maxBodyBytes = 1 << 20
            try await Self.app(options).test(.router) { big in
                try await big.execute(uri: "/v1/completions", method: .post, body: Self.json(tooLong)) {
                    try Self.expectError($0, .unprocessableContent)
                    #expect(String(buffer: $0.body).contains("context_length_exceeded"))
                }
            }
            // Body over the limit.
            let huge = #"{"model":"smollm2-135m","prompt":"\#(String(repeating: "a", count: 70_000))"}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(huge)) {
                try Self.expectError($0, .contentTooLarge)
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { try Self.expectError($0, .notFound) }
            try await client.execute(uri: "/v1/completions", method: .get) { try Self.expectError($0, .methodNotAllowed) }
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, body: Self.json(#"{"lora_name":"x"}"#)) {
                try Self.expectError($0, .unprocessableContent, param: "lora_path")
            }
        }
    }

    @Test func apiKey() async throws {
        var options = ServeFixture.options
        options.apiKey = "sekret"
        try await Self.app(options).test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { try Self.expectError($0, .unauthorized) }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer wrong"]) {
                try Self.expectError($0, .unauthorized)
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer sekret"]) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A full queue answers 429 (an engine that admits no waiting request).
    @Test func queueFull() async throws {
        let engine = try ServeFixture.engine()
        let full = try Engine(languageModel: engine.languageModel, registry: engine.registry,
                              configuration: EngineConfiguration(kvCacheBytes: 8 << 20, maxQueue: 0))
        try await Self.app(engine: full).test(.router) { client in
            let body = #"{"model":"smollm2-135m","prompt":"Hi","max_tokens":2}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: Self.json(body)) {
                try Self.expectError($0, .tooManyRequests)
            }
        }
        await full.shutdown()
    }
}
