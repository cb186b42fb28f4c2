import Foundation

/// `usage` of a completion.
struct Usage: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int { promptTokens + completionTokens }

    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens",
                                              totalTokens = "total_tokens" }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
    }
}

/// One choice of a completion or of a chunk; fields that do not apply are left out, `null`s are explicit.
struct Choice: Encodable, Sendable {
    struct Message: Encodable, Sendable {
        var role: String?
        var content: String?
    }
    var index = 0
    var text: String?
    var message: Message?
    var delta: Message?
    var finishReason: String?

    enum CodingKeys: String, CodingKey { case index, text, message, delta, logprobs, finishReason = "finish_reason" }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encodeIfPresent(text, forKey: .text)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(delta, forKey: .delta)
        try c.encodeNil(forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

/// A completion, a chat completion, or one streamed chunk of either.
struct CompletionResponse: Encodable, Sendable {
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: FieldKey.self)
        try c.encode(id, forKey: FieldKey("id"))
        try c.encode(object, forKey: FieldKey("object"))
        try c.encode(created, forKey: FieldKey("created"))
        try c.encode(model, forKey: FieldKey("model"))
        try c.encode(choices, forKey: FieldKey("choices"))
        try c.encodeIfPresent(usage, forKey: FieldKey("usage"))
    }
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "lorakit"
        var root: String
        var parent: String?

        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", root, parent }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(object, forKey: .object)
            try c.encode(created, forKey: .created)
            try c.encode(ownedBy, forKey: .ownedBy)
            try c.encode(root, forKey: .root)
            try c.encode(parent, forKey: .parent)
        }
    }
    var object = "list"
    var data: [Model]
}

/// The answer of `load_lora_adapter` / `unload_lora_adapter`.
struct AdapterResponse: Encodable, Sendable {
    var status = "ok"
    var loraName: String
    var message: String

    enum CodingKeys: String, CodingKey { case status, loraName = "lora_name", message }
}
