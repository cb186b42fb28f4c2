import Foundation
import LoRAKitCore
import LoRAKitTokenizers

/// What a generation may produce and when it stops.
public struct GenerationParameters: Sendable, Equatable {
    /// Most new tokens to generate.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation stops when the text contains one of these; the stop string itself is not returned.
    public var stopStrings: [String]
    /// Token ids that end generation; `nil` uses the model's (EOS and `<|im_end|>`).
    public var stopTokenIDs: Set<Int32>?

    public init(maxTokens: Int = 256, sampling: SamplingParameters = .greedy, stopStrings: [String] = [],
                stopTokenIDs: Set<Int32>? = nil) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.stopTokenIDs = stopTokenIDs
    }
}

/// Why generation ended (OpenAI's `finish_reason`).
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// `maxTokens` new tokens, or the model's context is full.
    case length
}

/// The outcome of one generation, with counts and timings.
public struct GenerationResult: Sendable, Equatable {
    /// The generated text (without the stop string or the end-of-sequence token).
    public var text: String
    /// The generated ids, including a final stop token if one ended generation.
    public var tokenIDs: [Int32]
    public var finishReason: FinishReason
    /// Prompt tokens, and how many of them were reused from the cache of a previous call.
    public var promptTokens: Int
    public var reusedPromptTokens: Int
    /// Seconds to process the prompt (up to the first token's logits) and to decode the rest.
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    /// Prompt tokens processed per second (excluding reused ones).
    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokens - reusedPromptTokens) / prefillSeconds : 0
    }
    /// Tokens decoded per second after the first.
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(tokenIDs.count - 1, 0)) / decodeSeconds : 0
    }
}

/// Why a generation could not start.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case tokenOutOfRange(Int32, vocabulary: Int)
    case promptTooLong(tokens: Int, context: Int)
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt is empty; give at least one token of text"
        case let .tokenOutOfRange(id, vocabulary):
            return "token id \(id) is outside the model's vocabulary 0..<\(vocabulary) (wrong tokenizer for this model?)"
        case let .promptTooLong(tokens, context):
            return "the prompt has \(tokens) tokens, more than the model's context of \(context); shorten it"
        case let .invalidParameter(text): return text
        }
    }
}

/// Generates text from a ``LanguageModel``, streaming pieces as they are decoded.
///
/// The generator keeps its KV cache between calls: a prompt that starts with the tokens of the previous call
/// (a growing chat) only prefills what is new.
///
/// ```swift
/// let generator = Generator(lm)
/// let result = try generator.generate(prompt: lm.encode("The capital of France is"),
///                                     parameters: GenerationParameters(maxTokens: 32)) { print($0, terminator: "") }
/// ```
public final class Generator: @unchecked Sendable {
    public let languageModel: LanguageModel
    private var cache: KVCache?
    /// The tokens whose keys/values are in `cache`.
    private var cachedTokens: [Int32] = []

    public init(_ languageModel: LanguageModel) {
        self.languageModel = languageModel
    }

    /// Forgets the cached conversation.
    public func reset() {
        cache?.reset()
        cachedTokens = []
    }

    /// Generates a continuation of `prompt`.
    /// - Parameters:
    ///   - prompt: token ids, `[tokens]`.
    ///   - parameters: length, sampling, stops.
    ///   - onText: called with each piece of text as soon as it is final (never part of a stop string or of a
    ///     UTF-8 character).
    /// - Throws: ``GenerationError`` or ``SamplingError`` for bad input.
    @discardableResult
    public func generate(prompt: [Int32], parameters: GenerationParameters = GenerationParameters(),
                         onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard parameters.maxTokens >= 0 else {
            throw GenerationError.invalidParameter("max tokens must be ≥ 0, got \(parameters.maxTokens)")
        }
        try parameters.sampling.validate()
        let model = languageModel.model
        let vocabulary = model.configuration.vocabularySize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: vocabulary)
        }
        let stopIDs = parameters.stopTokenIDs ?? languageModel.stopTokenIDs
        let contextLimit = model.configuration.maxPositionEmbeddings
        guard prompt.count < contextLimit else {
            throw GenerationError.promptTooLong(tokens: prompt.count, context: contextLimit)
        }
        let cache = self.cache ?? model.makeCache(capacity: min(prompt.count + parameters.maxTokens + 1, contextLimit))
        self.cache = cache

        // Reuse the longest common prefix of the cached tokens (at least one prompt token must be processed).
        var reused = 0
        while reused < min(cachedTokens.count, prompt.count - 1) && cachedTokens[reused] == prompt[reused] { reused += 1 }
        cache.truncate(to: reused)
        cachedTokens = Array(prompt[..<reused])

        var sampler = Sampler(parameters.sampling)
        var decoder = StreamingDecoder(languageModel.tokenizer, skipSpecialTokens: true)
        var matcher = StopStringMatcher(stops: parameters.stopStrings)
        var context = prompt
        var generated: [Int32] = []
        var text = ""
        var finish = FinishReason.length
        var pending = Array(prompt[reused...])
        let start = DispatchTime.now().uptimeNanoseconds
        var firstTokenAt = start
        func emit(_ piece: String) {
            guard !piece.isEmpty else { return }
            text += piece
            onText(piece)
        }
        withNoGrad {
            while generated.count < parameters.maxTokens {
                if cache.length + pending.count > contextLimit { finish = .length; break }
                let logits = model.logits(pending, batch: 1, cache: cache, positions: .last)
                cachedTokens += pending
                if generated.isEmpty { firstTokenAt = DispatchTime.now().uptimeNanoseconds }
                let next = logits.withUnsafeBufferPointer { sampler.sample(logits: $0, context: context) }
                generated.append(next)
                if stopIDs.contains(next) { finish = .stop; break }
                context.append(next)
                switch matcher.feed(decoder.append(next)) {
                case .emit(let piece): emit(piece)
                case .stop(let piece): emit(piece); finish = .stop
                }
                if finish == .stop { break }
                pending = [next]
            }
        }
        if finish == .length || stopIDs.contains(generated.last ?? -1) {
            switch matcher.feed(decoder.finish()) {
            case .emit(let piece): emit(piece); emit(matcher.finish())
            case .stop(let piece): emit(piece); finish = .stop
            }
        }
        let end = DispatchTime.now().uptimeNanoseconds
        if generated.isEmpty { firstTokenAt = end }
        return GenerationResult(text: text, tokenIDs: generated, finishReason: finish, promptTokens: prompt.count,
                                reusedPromptTokens: reused, prefillSeconds: Double(firstTokenAt - start) / 1e9,
                                decodeSeconds: Double(end - firstTokenAt) / 1e9)
    }
}
