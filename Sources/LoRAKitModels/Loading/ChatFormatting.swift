/// One message of a conversation.
public struct ChatTurn: Sendable, Equatable, Codable {
    /// `system`, `user` or `assistant`.
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Renders conversations with a model's chat template.
///
/// Until the Jinja engine of LoRAKitTokenizers is merged, this recognises ChatML templates (`<|im_start|>`,
/// SmolLM2, Qwen) including a default system message written literally in the template, and refuses others.
struct ChatFormatter: Sendable {
    let template: String
    let defaultSystem: String?

    init(template: String?) throws {
        guard let template, template.contains("<|im_start|>") else {
            throw ModelLoadingError.invalidConfiguration(
                "the model's chat template is not ChatML and cannot be rendered yet; run without --chat")
        }
        self.template = template
        let marker = "<|im_start|>system\n"
        if let start = template.range(of: marker),
           let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) {
            defaultSystem = String(template[start.upperBound..<end.lowerBound])
        } else {
            defaultSystem = nil
        }
    }

    /// The prompt text: a default system message when the first turn is not a system turn, every turn, then
    /// `<|im_start|>assistant\n` when `addGenerationPrompt`.
    func render(_ turns: [ChatTurn], addGenerationPrompt: Bool) -> String {
        var text = ""
        if turns.first?.role != "system", let system = defaultSystem {
            text += "<|im_start|>system\n\(system)<|im_end|>\n"
        }
        for turn in turns { text += "<|im_start|>\(turn.role)\n\(turn.content)<|im_end|>\n" }
        if addGenerationPrompt { text += "<|im_start|>assistant\n" }
        return text
    }
}
