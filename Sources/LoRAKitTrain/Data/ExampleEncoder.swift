import LoRAKitCore
import LoRAKitModels
import LoRAKitTokenizers

/// One example as token ids, with the tokens the loss covers.
public struct EncodedExample: Sendable, Equatable {
    /// The whole sequence: prompt and answer.
    public var ids: [Int32]
    /// `lossMask[i]`: token `i` is a training target, predicted from `ids[..<i]` (`lossMask[0]` is always false).
    public var lossMask: [Bool]
    /// Whether `--max-seq-len` cut the example short.
    public var truncated: Bool

    public init(ids: [Int32], lossMask: [Bool], truncated: Bool = false) {
        precondition(ids.count == lossMask.count, "ids and loss mask differ in length")  // invariant
        self.ids = ids
        self.lossMask = lossMask
        self.truncated = truncated
    }

    /// Number of tokens the loss covers.
    public var targetCount: Int { lossMask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// Turns ``TrainingExample``s into token ids and a loss mask, as mlx-lm and TRL do:
/// - `{"text"}`: the text, then EOS; the loss covers every token.
/// - `{"prompt","completion"}`: with a chat template, a user turn and an assistant turn; without, the two texts
///   joined, then EOS. The loss covers the completion only unless `trainOnPrompt`.
/// - `{"messages"}`: the conversation through the chat template; the loss covers assistant turns (their content and
///   end-of-turn token) unless `trainOnPrompt`.
public struct ExampleEncoder: Sendable {
    public let languageModel: LanguageModel
    public var trainOnPrompt: Bool
    /// Longer examples keep their first `maxSequenceLength` tokens.
    public var maxSequenceLength: Int

    public init(languageModel: LanguageModel, trainOnPrompt: Bool = false, maxSequenceLength: Int = 2048) {
        self.languageModel = languageModel
        self.trainOnPrompt = trainOnPrompt
        self.maxSequenceLength = maxSequenceLength
    }

    /// - Throws: the chat template's error (for instance a role it refuses).
    public func encode(_ example: TrainingExample) throws -> EncodedExample {
        let tokenizer = languageModel.tokenizer
        var ids: [Int32] = []
        var mask: [Bool] = []
        func append(_ part: [Int32], trained: Bool) {
            ids += part
            mask += Array(repeating: trained || trainOnPrompt, count: part.count)
        }
        switch example {
        case .text(let text):
            append(tokenizer.encode(text, addSpecialTokens: true) + eos, trained: true)
        case .promptCompletion(let prompt, let completion):
            if languageModel.chatTemplate != nil {
                try appendChat([.init(role: "user", content: prompt), .init(role: "assistant", content: completion)],
                               into: append)
            } else {
                let promptIDs = tokenizer.encode(prompt, addSpecialTokens: true)
                let full = tokenizer.encode(prompt + completion, addSpecialTokens: true) + eos
                let shared = zip(promptIDs, full).prefix { $0 == $1 }.count
                append(Array(full[..<shared]), trained: false)
                append(Array(full[shared...]), trained: true)
            }
        case .chat(let messages):
            try appendChat(messages, into: append)
        }
        if !mask.isEmpty { mask[0] = false }
        let truncated = ids.count > maxSequenceLength
        if truncated {
            ids.removeLast(ids.count - maxSequenceLength)
            mask.removeLast(mask.count - maxSequenceLength)
        }
        return EncodedExample(ids: ids, lossMask: mask, truncated: truncated)
    }

    private var eos: [Int32] { languageModel.tokenizer.eosTokenID.map { [$0] } ?? [] }

    /// Renders the whole conversation once; the tokens each assistant turn adds to the rendered prefix before it
    /// (with the generation prompt) are trained on, the rest is context.
    private func appendChat(_ messages: [TrainingExample.Message],
                            into append: ([Int32], Bool) -> Void) throws {
        let turns = messages.map { ChatMessage(role: $0.role, content: $0.content) }
        let full = try languageModel.encodeChat(turns, addGenerationPrompt: false)
        var trained = [Bool](repeating: false, count: full.count)
        for (i, turn) in turns.enumerated() where turn.role == "assistant" {
            let start = try languageModel.encodeChat(Array(turns[..<i]), addGenerationPrompt: true).count
            let end = try languageModel.encodeChat(Array(turns[...i]), addGenerationPrompt: false).count
            for j in min(start, full.count)..<min(max(start, end), full.count) { trained[j] = true }
        }
        var j = 0
        while j < full.count {
            var k = j
            while k < full.count && trained[k] == trained[j] { k += 1 }
            append(Array(full[j..<k]), trained[j])
            j = k
        }
    }
}
