import Foundation
import LoRAKitModels
import LoRAKitTokenizers

/// Exact-match task accuracy: does greedy generation from an example's prompt reproduce its reference answer?
///
/// For each example with a reference answer:
/// - `{"messages"}` ending with an assistant turn: the prompt is the conversation before that turn, rendered with the
///   chat template and its generation prompt; the reference is the last assistant message.
/// - `{"prompt","completion"}`: the prompt is a user turn through the chat template (the prompt text as is when the
///   model has none), the reference is the completion.
/// - `{"text"}` examples have no reference answer and are skipped (counted in ``Result/skipped``).
///
/// Generation is greedy, stops at the model's end-of-turn tokens, and may produce at most the reference's token
/// count plus ``marginTokens``. The answer is correct when the generated text equals the reference after trimming
/// leading and trailing whitespace on both.
///
/// ```swift
/// let result = try TaskAccuracy().evaluate(languageModel: lm, examples: data.test)
/// print(result.correct, "/", result.total)
/// ```
public struct TaskAccuracy: Sendable {
    /// New tokens allowed beyond the reference answer's length: enough to see what a wrong answer looks like.
    public static let defaultMarginTokens = 8

    public var marginTokens: Int
    /// How many mismatches to keep as samples.
    public var maxMismatches: Int

    public init(marginTokens: Int = TaskAccuracy.defaultMarginTokens, maxMismatches: Int = 3) {
        self.marginTokens = marginTokens
        self.maxMismatches = maxMismatches
    }

    /// One wrong answer.
    public struct Mismatch: Sendable, Equatable, Codable {
        /// The last user message (or the prompt text).
        public var prompt: String
        public var expected: String
        public var generated: String

        public init(prompt: String, expected: String, generated: String) {
            self.prompt = prompt
            self.expected = expected
            self.generated = generated
        }
    }

    public struct Result: Sendable, Equatable {
        /// Examples answered exactly.
        public var correct: Int
        /// Examples with a reference answer.
        public var total: Int
        /// `{"text"}` examples, which have no reference answer.
        public var skipped: Int
        /// The first ``TaskAccuracy/maxMismatches`` wrong answers, in data order.
        public var mismatches: [Mismatch]

        /// `correct / total`, or `nil` when no example has a reference answer.
        public var accuracy: Double? { total > 0 ? Double(correct) / Double(total) : nil }
    }

    /// A prompt to generate from and the answer expected.
    struct Question {
        var promptIDs: [Int32]
        var promptText: String
        var reference: String
    }

    /// - Parameter progress: called after each scored example with (scored so far, examples to score).
    /// - Throws: the chat template's error, or ``GenerationError`` (for instance a prompt longer than the context).
    public func evaluate(languageModel: LanguageModel, examples: [TrainingExample],
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let questions = try examples.compactMap { try question(for: $0, languageModel: languageModel) }
        let generator = Generator(languageModel)  // reuses the KV cache of the prompts' shared prefix
        var result = Result(correct: 0, total: questions.count, skipped: examples.count - questions.count, mismatches: [])
        for (i, q) in questions.enumerated() {
            let referenceTokens = languageModel.tokenizer.encode(q.reference, addSpecialTokens: false).count
            let parameters = GenerationParameters(maxTokens: referenceTokens + marginTokens, sampling: .greedy)
            let generated = try generator.generate(prompt: q.promptIDs, parameters: parameters).text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if generated == q.reference {
                result.correct += 1
            } else if result.mismatches.count < maxMismatches {
                result.mismatches.append(Mismatch(prompt: q.promptText, expected: q.reference, generated: generated))
            }
            progress(i + 1, questions.count)
        }
        return result
    }

    func question(for example: TrainingExample, languageModel: LanguageModel) throws -> Question? {
        let reference: String
        let prompt: [ChatMessage]
        switch example {
        case .text:
            return nil
        case .promptCompletion(let text, let completion):
            reference = completion
            guard languageModel.chatTemplate != nil else {
                return Question(promptIDs: languageModel.tokenizer.encode(text, addSpecialTokens: true),
                                promptText: text, reference: reference.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            prompt = [.user(text)]
        case .chat(let messages):
            guard let last = messages.last, last.role == "assistant" else { return nil }
            reference = last.content
            prompt = messages.dropLast().map { ChatMessage(role: $0.role, content: $0.content) }
        }
        let promptText = prompt.last { $0.role == "user" }?.content ?? ""
        return Question(promptIDs: try languageModel.encodeChat(prompt, addGenerationPrompt: true),
                        promptText: promptText, reference: reference.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
