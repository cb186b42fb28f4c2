import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitTokenizers

/// A loaded model with its tokenizer and chat template: what `generate`, `chat` and `serve` work with.
///
/// ```swift
/// let lm = try LanguageModel.load(try ModelStore().resolve("smollm2-135m"))
/// let ids = try lm.encodeChat([.user("Hi")])
/// ```
public final class LanguageModel: @unchecked Sendable {
    public let model: LlamaModel
    public let tokenizer: BPETokenizer
    /// The Jinja chat template the model ships, if any.
    public let chatTemplate: String?
    /// The file or directory it was loaded from.
    public let source: URL
    private var parsed: ChatTemplate?
    private let templateLock = NSLock()

    public init(model: LlamaModel, tokenizer: BPETokenizer, chatTemplate: String?, source: URL) {
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.source = source
    }

    /// Loads a GGUF file or a Hugging Face directory (`config.json`, `*.safetensors`, `tokenizer.json`).
    /// - Parameters:
    ///   - dtype: how projection weights are stored: `.float32` (default, exact) or `.bfloat16` (half the memory,
    ///     faster decode and, on AVX512_BF16 CPUs, prefill; logits within bf16 rounding of fp32's).
    /// - Throws: ``ModelLoadingError``, or the reader's/tokenizer's error, each with a one-line message.
    public static func load(_ url: URL, dtype: WeightDType = .float32) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelLoadingError.unreadable(path: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            let model = try LlamaModel(huggingFaceDirectory: url, dtype: dtype)
            let tokenizer = try BPETokenizer(directory: url)
            return LanguageModel(model: model, tokenizer: tokenizer, chatTemplate: tokenizer.chatTemplateSource,
                                 source: url)
        }
        let gguf = try GGUFFile(url: url)
        let tokenizer = try GGUFTokenizerLoader.tokenizer(from: gguf)
        let model = try LlamaModel(gguf: gguf, dtype: dtype)
        return LanguageModel(model: model, tokenizer: tokenizer,
                             chatTemplate: gguf.metadata.string("tokenizer.chat_template"), source: url)
    }

    /// Token ids of plain text: BOS only when the model's metadata asks for it (`add_bos_token`).
    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text, addSpecialTokens: true) }

    /// The prompt text of a conversation, rendered with the model's Jinja chat template (as transformers'
    /// `apply_chat_template(..., tokenize=False)`).
    /// - Throws: ``ModelLoadingError/invalidConfiguration(_:)`` when the model has no template, or the template's
    ///   `ChatTemplateError`.
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        guard let template = try parsedTemplate() else {
            throw ModelLoadingError.invalidConfiguration(
                "the model has no chat template (tokenizer.chat_template / tokenizer_config.json); run without --chat")
        }
        return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, tokenizer: tokenizer)
    }

    /// Token ids of a conversation rendered with the chat template (special tokens in it become their ids; no
    /// extra BOS: templates write it themselves).
    public func encodeChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Int32] {
        tokenizer.encode(try renderChat(messages, addGenerationPrompt: addGenerationPrompt), addSpecialTokens: false)
    }

    private func parsedTemplate() throws -> ChatTemplate? {
        templateLock.lock()
        defer { templateLock.unlock() }
        if let parsed { return parsed }
        guard let chatTemplate else { return nil }
        parsed = try ChatTemplate(source: chatTemplate)
        return parsed
    }

    /// Ids that end generation: EOS and, for ChatML models, `<|im_end|>`.
    public var stopTokenIDs: Set<Int32> {
        var ids = Set<Int32>()
        if let eos = tokenizer.eosTokenID { ids.insert(eos) }
        if let end = tokenizer.tokenID(for: "<|im_end|>") { ids.insert(end) }
        return ids
    }
}
