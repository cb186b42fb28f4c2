import Foundation
import Hummingbird
import LoRAKitModels
import LoRAKitTokenizers

/// `POST /v1/completions` and `POST /v1/chat/completions`, streaming or not.
struct GenerateController: Sendable {
    let engine: Engine
    let options: ServerOptions
    let stats: HTTPStats

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/completions") { request, _ in try await complete(request, chat: false) }
        router.post("/v1/chat/completions") { request, _ in try await complete(request, chat: true) }
    }

    private func complete(_ request: Request, chat: Bool) async throws -> Response {
        let data = try await BodyReader.read(request, limit: options.maxBodyBytes)
        let fields: GenerationFields
        let prompt: [Int32]
        let languageModel = engine.languageModel
        if chat {
            let body = try JSONDecoder.request(ChatCompletionRequest.self, from: data)
            fields = body.fields
            do { prompt = try languageModel.encodeChat(body.messages) } catch {
                throw ServeError.invalidField("messages", "cannot be rendered with the chat template: \(error)")
            }
        } else {
            let body = try JSONDecoder.request(CompletionRequest.self, from: data)
            fields = body.fields
            switch body.prompt {
            case .text(let text): prompt = languageModel.encode(text)
            case .tokens(let ids): prompt = ids
            }
        }
        let lease = try await AdapterLeasing.lease(fields.model, engine: engine, options: options)
        let maxTokens = try resolveMaxTokens(fields.maxTokens, promptTokens: prompt.count, chat: chat)
        let sampling = SamplingParameters(temperature: Float(fields.temperature), topP: Float(fields.topP),
                                          seed: fields.seed ?? UInt64.random(in: 0...UInt64.max))
        let ticket = try engine.submit(EngineRequest(prompt: prompt, adapter: lease, parameters: GenerationParameters(
            maxTokens: maxTokens, sampling: sampling, stopStrings: fields.stop)))
        let id = (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let shape = ResponseShape(id: id, model: fields.model, created: Int(Date().timeIntervalSince1970), chat: chat)
        if fields.stream { return stream(ticket, shape: shape, includeUsage: fields.includeUsage) }
        var text = ""
        var summary: EngineSummary?
        await withTaskCancellationHandler {
            for await event in ticket.events {
                switch event {
                case .text(let piece): text += piece
                case .finished(let s): summary = s
                }
            }
        } onCancel: { ticket.cancel() }
        guard let summary else { throw ServeError.internal("the request was cancelled") }
        let usage = Usage(promptTokens: summary.promptTokens, completionTokens: summary.completionTokens)
        let body = shape.response(text: text, finish: summary.finishReason.rawValue, usage: usage)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.serve.encode(body))))
    }

    /// `max_tokens` checked against the server limit and the context; the default when absent (16 for
    /// completions as OpenAI, the rest of the context up to `--max-tokens` for chat).
    private func resolveMaxTokens(_ asked: Int?, promptTokens: Int, chat: Bool) throws -> Int {
        let context = min(engine.contextLength, engine.cachePositions)
        guard promptTokens < context else {
            throw ServeError.contextLengthExceeded(
                "the prompt has \(promptTokens) tokens but this server's context is \(context) tokens; shorten it")
        }
        guard let asked else { return chat ? max(1, min(options.maxTokens, context - promptTokens)) : 16 }
        guard asked <= options.maxTokens else {
            throw ServeError.invalidField("max_tokens", "must be ≤ \(options.maxTokens) (the server's --max-tokens), got \(asked)")
        }
        guard promptTokens + asked <= context else {
            throw ServeError.contextLengthExceeded(
                "this server's context is \(context) tokens, but \(promptTokens) prompt tokens + max_tokens \(asked) "
                    + "= \(promptTokens + asked); lower max_tokens or shorten the prompt")
        }
        return asked
    }

    /// Server-sent events: one `data: {chunk}` per text piece, a last chunk with `finish_reason`, an optional usage
    /// chunk, then `data: [DONE]`. A write that fails (the client went away) cancels the sequence.
    private func stream(_ ticket: EngineTicket, shape: ResponseShape, includeUsage: Bool) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { ticket.cancel() }
            func send(_ payload: CompletionResponse) async throws {
                var line = Data("data: ".utf8)
                line += try JSONEncoder.serve.encode(payload)
                line += Data("\n\n".utf8)
                try await writer.write(ByteBuffer(bytes: line))
            }
            if shape.chat { try await send(shape.chunk(delta: Choice.Message(role: "assistant", content: ""))) }
            for await event in ticket.events {
                switch event {
                case .text(let piece): try await send(shape.chunk(text: piece))
                case .finished(let summary):
                    try await send(shape.chunk(finish: summary.finishReason.rawValue))
                    if includeUsage {
                        try await send(shape.usageChunk(Usage(promptTokens: summary.promptTokens,
                                                              completionTokens: summary.completionTokens)))
                    }
                }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }
}

/// The fixed parts of one response (id, model, kind), and its bodies.
struct ResponseShape: Sendable {
    var id: String
    var model: String
    var created: Int
    var chat: Bool

    private func make(_ choices: [Choice], usage: Usage?, chunk: Bool) -> CompletionResponse {
        let object = chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"
        return CompletionResponse(id: id, object: object, created: created, model: model, choices: choices, usage: usage)
    }

    func response(text: String, finish: String, usage: Usage) -> CompletionResponse {
        let choice = chat ? Choice(message: .init(role: "assistant", content: text), finishReason: finish)
            : Choice(text: text, finishReason: finish)
        return make([choice], usage: usage, chunk: false)
    }

    func chunk(text: String) -> CompletionResponse {
        make([chat ? Choice(delta: .init(content: text)) : Choice(text: text)], usage: nil, chunk: true)
    }

    func chunk(delta: Choice.Message) -> CompletionResponse { make([Choice(delta: delta)], usage: nil, chunk: true) }

    func chunk(finish: String) -> CompletionResponse {
        make([chat ? Choice(delta: .init(), finishReason: finish) : Choice(text: "", finishReason: finish)],
             usage: nil, chunk: true)
    }

    func usageChunk(_ usage: Usage) -> CompletionResponse { make([], usage: usage, chunk: true) }
}

/// Resolves a request's `model` to nothing (the base) or a leased adapter, waiting for a free slot.
enum AdapterLeasing {
    static func lease(_ model: String, engine: Engine, options: ServerOptions) async throws -> AdapterLease? {
        if model == options.modelName { return nil }
        let deadline = Date().addingTimeInterval(options.adapterWaitSeconds)
        while true {
            let lease: AdapterLease?
            do { lease = try engine.registry.lease(model) } catch let error as ServeError {
                if case .unknownModel = error {
                    throw ServeError.unknownModel(model, available: [options.modelName] + engine.registry.names)
                }
                throw error
            } catch {
                throw ServeError.adapterUnavailable("cannot load adapter '\(model)': \(error)")
            }
            if let lease { return lease }
            guard Date() < deadline else {
                throw ServeError.overloaded("all \(engine.registry.maxLoaded) adapter slots (--max-loras) are busy; retry shortly")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}

/// Reading a body within the size limit.
enum BodyReader {
    static func read(_ request: Request, limit: Int) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ServeError.bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw ServeError.bodyTooLarge(limit: limit)
        }
    }
}
