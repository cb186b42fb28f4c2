import Foundation
import LoRAKitTokenizers

/// The sampling and length fields shared by `/v1/completions` and `/v1/chat/completions`.
struct GenerationFields: Sendable {
    var model: String
    var maxTokens: Int?
    var temperature: Double
    var topP: Double
    var seed: UInt64?
    var stop: [String]
    var stream: Bool
    var includeUsage: Bool

    init(_ f: Fields, maxTokensKeys: [String]) throws {
        model = try f.required("model", "a string")
        maxTokens = nil
        for key in maxTokensKeys { if let value = try f.integer(key, atLeast: 1) { maxTokens = value } }
        temperature = try f.number("temperature", in: 0...2) ?? 1
        topP = try f.number("top_p", in: 0...1) ?? 1
        if topP == 0 { throw ServeError.invalidField("top_p", "must be greater than 0") }
        if f.has("seed") {
            guard let value: Double = try f.optional("seed", "an integer"), value.rounded() == value,
                  abs(value) < 9.2e18 else { throw ServeError.invalidField("seed", "must be an integer") }
            seed = UInt64(bitPattern: Int64(value))
        }
        stop = try f.stops("stop")
        stream = try f.optional("stream", "a boolean") ?? false
        includeUsage = false
        if f.has("stream_options") {
            let options = try f.container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("stream_options"))
            if options.contains(FieldKey("include_usage")) {
                guard let flag = try? options.decode(Bool.self, forKey: FieldKey("include_usage")) else {
                    throw ServeError.invalidField("stream_options.include_usage", "must be a boolean")
                }
                includeUsage = flag
            }
        }
        if let n = try f.integer("n", atLeast: 1), n != 1 {
            throw ServeError.invalidField("n", "must be 1 (one choice per request is supported)")
        }
        if (try f.optional("logprobs", "a boolean or an integer") as LogprobsValue?)?.enabled == true {
            throw ServeError.invalidField("logprobs", "is not supported")
        }
    }
}

/// `logprobs` is a boolean in chat and an integer in completions.
private struct LogprobsValue: Decodable {
    var enabled: Bool
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let flag = try? c.decode(Bool.self) { enabled = flag } else { enabled = try c.decode(Int.self) > 0 }
    }
}

/// `POST /v1/completions`.
struct CompletionRequest: Decodable, Sendable {
    enum Prompt: Sendable { case text(String), tokens([Int32]) }
    var fields: GenerationFields
    var prompt: Prompt
    var echo: Bool

    init(from decoder: any Decoder) throws {
        let f = try Fields(decoder)
        fields = try GenerationFields(f, maxTokensKeys: ["max_tokens"])
        guard f.has("prompt") else { throw ServeError.missingField("prompt") }
        if let text: String = try? f.container.decode(String.self, forKey: FieldKey("prompt")) {
            prompt = .text(text)
        } else if let texts = try? f.container.decode([String].self, forKey: FieldKey("prompt")) {
            guard texts.count == 1 else {
                throw ServeError.invalidField("prompt", "must be one string (batches of prompts are not supported)")
            }
            prompt = .text(texts[0])
        } else if let ids = try? f.container.decode([Int32].self, forKey: FieldKey("prompt")) {
            prompt = .tokens(ids)
        } else {
            throw ServeError.invalidField("prompt", "must be a string or an array of token ids")
        }
        echo = try f.optional("echo", "a boolean") ?? false
        if echo { throw ServeError.invalidField("echo", "is not supported") }
    }
}

/// `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var fields: GenerationFields
    var messages: [ChatMessage]

    static let roles: Set<String> = ["system", "developer", "user", "assistant"]

    init(from decoder: any Decoder) throws {
        let f = try Fields(decoder)
        fields = try GenerationFields(f, maxTokensKeys: ["max_tokens", "max_completion_tokens"])
        guard f.has("messages") else { throw ServeError.missingField("messages") }
        guard let raw = try? f.container.decode([MessageValue.Strict].self, forKey: FieldKey("messages")) else {
            throw ServeError.invalidField("messages", "must be an array of {role, content} objects")
        }
        let messages = try raw.enumerated().map { try $0.element.value(index: $0.offset) }
        guard !messages.isEmpty else { throw ServeError.invalidField("messages", "must not be empty") }
        self.messages = messages
    }
}

/// One chat message: `content` is a string or an array of `{"type": "text", "text": …}` parts.
private enum MessageValue {
    struct Strict: Decodable {
        var role: String?
        var content: Content?
        var problem: String?

        enum Content: Decodable {
            case text(String), parts([Part])
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .parts(try c.decode([Part].self)) }
            }
        }

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            guard let c = try? decoder.container(keyedBy: FieldKey.self) else { problem = "must be an object"; return }
            role = try? c.decode(String.self, forKey: FieldKey("role"))
            if c.contains(FieldKey("content")), (try? c.decodeNil(forKey: FieldKey("content"))) == false {
                guard let value = try? c.decode(Content.self, forKey: FieldKey("content")) else {
                    problem = ".content must be a string or an array of text parts"
                    return
                }
                content = value
            }
        }

        func value(index: Int) throws -> ChatMessage {
            let at = "messages[\(index)]"
            if let problem { throw ServeError.invalidField(at, problem) }
            guard let role else { throw ServeError.missingField(at + ".role") }
            guard ChatCompletionRequest.roles.contains(role) else {
                throw ServeError.invalidField(at + ".role", "must be one of system, developer, user, assistant; got '\(role)'")
            }
            let text: String
            switch content {
            case .none: text = ""
            case .text(let s): text = s
            case .parts(let parts):
                guard parts.allSatisfy({ $0.type == "text" && $0.text != nil }) else {
                    throw ServeError.invalidField(at + ".content", "parts must be {\"type\": \"text\", \"text\": …}")
                }
                text = parts.compactMap(\.text).joined()
            }
            return ChatMessage(role: role == "developer" ? "system" : role, content: text)
        }
    }
}

/// `POST /v1/load_lora_adapter` and `/v1/unload_lora_adapter`.
struct AdapterRequest: Decodable, Sendable {
    var name: String
    var path: String?

    init(from decoder: any Decoder) throws {
        let f = try Fields(decoder)
        name = try f.required("lora_name", "a string")
        path = try f.optional("lora_path", "a string")
    }
}
