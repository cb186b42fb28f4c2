/// One message of a conversation, as chat templates see it (`message['role']`, `message['content']`).
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    /// Further fields (`tool_calls`, `name`, …), rendered as keys of the message after role and content.
    public var extra: JinjaObject

    public init(role: String, content: String, extra: JinjaObject = JinjaObject()) {
        self.role = role
        self.content = content
        self.extra = extra
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

    var value: JinjaValue {
        var o = JinjaObject([("role", .string(role)), ("content", .string(content))])
        for (k, v) in extra.entries { o[k] = v }
        return .object(o)
    }
}

/// A Jinja chat template (the `chat_template` of `tokenizer_config.json` or GGUF `tokenizer.chat_template`),
/// rendered like transformers' `apply_chat_template(..., tokenize=False)`.
///
/// Supported Jinja: `{{ }}`, `{% if/elif/else %}`, `{% for x in xs if c %}` (+ `loop.*`, `else`, tuple targets),
/// `{% set %}` (incl. `ns.attr` and block form), `{% macro %}`, `break`/`continue`, `{# #}`, whitespace control
/// (`-`, `trim_blocks`, `lstrip_blocks`), literals, lists/dicts, `.attr`, `[i]`, slices, `+ - * / // % ** ~`,
/// comparisons, `in`/`not in`, `and/or/not`, `a if c else b`, common filters (`trim`, `length`, `join`, `tojson`,
/// `items`, `default`, `map`, `select`/`reject`, …), tests (`defined`, `none`, `string`, `mapping`, …),
/// string/dict methods, `raise_exception`, `namespace`, `range`, `strftime_now`.
///
/// ```swift
/// let template = try ChatTemplate(source: tokenizer.chatTemplateSource ?? "")
/// let prompt = try template.render(messages: [.user("Hi")], addGenerationPrompt: true,
///                                  bosToken: "<|im_start|>", eosToken: "<|im_end|>")
/// ```
public struct ChatTemplate: Sendable {
    public let source: String
    private let nodes: [JinjaNode]

    /// Parses the template.
    /// - Throws: ``ChatTemplateError`` (kind `.syntax`) naming the line and column of the problem.
    public init(source: String) throws {
        self.source = source
        nodes = try JinjaParser.parse(source)
    }

    /// Renders a conversation.
    /// - Parameters:
    ///   - messages: the conversation, oldest first.
    ///   - addGenerationPrompt: end with the assistant header so the model answers.
    ///   - bosToken, eosToken: the strings templates read as `bos_token` / `eos_token`.
    ///   - tools: tool schemas (`tools` in the template), or nil when there are none.
    ///   - extra: further variables (`date_string`, `enable_thinking`, …).
    /// - Throws: ``ChatTemplateError`` (kind `.runtime` or `.raised`) naming the line and column.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String? = nil,
                       eosToken: String? = nil, tools: [JinjaValue]? = nil,
                       extra: [String: JinjaValue] = [:]) throws -> String {
        var context = extra
        context["messages"] = .array(messages.map(\.value))
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        if let tools { context["tools"] = .array(tools) }
        return try render(context: context)
    }

    /// Renders a conversation with the BOS/EOS strings of `tokenizer`.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, tokenizer: some Tokenizer,
                       tools: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]) throws -> String {
        try render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                   bosToken: tokenizer.bosTokenID.flatMap(tokenizer.token(for:)),
                   eosToken: tokenizer.eosTokenID.flatMap(tokenizer.token(for:)), tools: tools, extra: extra)
    }

    /// Renders with an explicit set of variables (`messages` must be among them for chat templates).
    /// - Throws: ``ChatTemplateError``.
    public func render(context: [String: JinjaValue]) throws -> String {
        try JinjaEvaluator(context: context).render(nodes)
    }
}
