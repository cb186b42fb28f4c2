import Foundation
import LoRAKitModels

/// What `lorakit eval` reports for a model (with its active adapters) on a set of examples.
public struct EvaluationReport: Sendable, Equatable, Codable {
    public var examples: Int
    /// Mean cross-entropy per target token (completion / assistant tokens), in nats.
    public var loss: Double
    /// `exp(loss)`.
    public var perplexity: Double
    public var targetTokens: Int
    /// Examples cut to the maximum sequence length for the loss.
    public var truncated: Int
    /// Exact-match accuracy in [0, 1]; `nil` when no example has a reference answer.
    public var accuracy: Double?
    public var correct: Int
    /// Examples scored for accuracy (those with a reference answer).
    public var scored: Int
    public var mismatches: [TaskAccuracy.Mismatch]
    public var seconds: Double

    public init(examples: Int, loss: Double, perplexity: Double, targetTokens: Int, truncated: Int, accuracy: Double?,
                correct: Int, scored: Int, mismatches: [TaskAccuracy.Mismatch], seconds: Double) {
        self.examples = examples
        self.loss = loss
        self.perplexity = perplexity
        self.targetTokens = targetTokens
        self.truncated = truncated
        self.accuracy = accuracy
        self.correct = correct
        self.scored = scored
        self.mismatches = mismatches
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case examples, loss, perplexity, targetTokens = "target_tokens", truncated, accuracy, correct, scored,
             mismatches, seconds
    }
}

/// Loss, perplexity and task accuracy of a model on examples: `lorakit eval` without the printing.
public struct Evaluation: Sendable {
    /// Examples per forward pass for the loss.
    public var batchSize: Int
    public var maxSequenceLength: Int
    public var task: TaskAccuracy

    public init(batchSize: Int = 8, maxSequenceLength: Int = 2048, task: TaskAccuracy = TaskAccuracy()) {
        self.batchSize = batchSize
        self.maxSequenceLength = maxSequenceLength
        self.task = task
    }

    /// Runs the loss over all examples (loss on completion / assistant tokens only), then greedy exact match.
    /// - Parameter progress: called after each example scored for accuracy with (done, to do).
    /// - Throws: the chat template's or generation's error.
    public func run(languageModel: LanguageModel, examples: [TrainingExample],
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> EvaluationReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let encoder = ExampleEncoder(languageModel: languageModel, trainOnPrompt: false,
                                     maxSequenceLength: maxSequenceLength)
        let encoded = try examples.map(encoder.encode)
        let (loss, targets) = LossEvaluator.evaluate(model: languageModel.model, examples: encoded,
                                                     batchSize: batchSize)
        let accuracy = try task.evaluate(languageModel: languageModel, examples: examples, progress: progress)
        return EvaluationReport(
            examples: examples.count, loss: loss, perplexity: exp(loss), targetTokens: targets,
            truncated: encoded.filter(\.truncated).count, accuracy: accuracy.accuracy, correct: accuracy.correct,
            scored: accuracy.total, mismatches: accuracy.mismatches,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
