import ArgumentParser
import Foundation
import LoRAKit

/// `--model M`: a pulled model's name or a path to a GGUF file / Hugging Face directory.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A pulled model's name (e.g. smollm2-135m) or a path to a .gguf file or a Hugging Face directory.")
    var model: String = "smollm2-135m"

    @Option(name: .customLong("adapter"),
            help: "A PEFT adapter folder to apply, PATH or PATH:SCALE (repeat for a weighted set of adapters).")
    var adapters: [String] = []

    func validate() throws {
        for text in adapters { _ = try AdapterSpec(parsing: text) }
    }

    /// Resolves and loads the model with its tokenizer (projection weights in `dtype`), then loads and activates
    /// the `--adapter`s.
    func load(dtype: WeightDType = .float32) throws -> LanguageModel {
        let lm = try LanguageModel.load(try ModelStore().resolve(model), dtype: dtype)
        if !adapters.isEmpty {
            try AdapterSet(lm.model.linears).loadAndActivate(try adapters.map(AdapterSpec.init(parsing:)))
        }
        return lm
    }
}

/// The sampler flags shared by `generate` and `chat`.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Softmax temperature; 0 is greedy.") var temperature: Float = 0.7
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0 disables).") var topK: Int = 0
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1 disables).") var topP: Float = 0.95
    @Option(name: .customLong("min-p"), help: "Drop tokens below min-p × the top probability (0 disables).")
    var minP: Float = 0
    @Option(name: .customLong("repetition-penalty"), help: "Penalty on tokens already seen (1 disables).")
    var repetitionPenalty: Float = 1
    @Option(name: .long, help: "Random seed for sampling.") var seed: UInt64 = 0

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                           repetitionPenalty: repetitionPenalty, seed: seed)
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Writes text to standard output immediately (tokens appear as they are decoded).
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// One line of generation statistics on standard error.
func reportStatistics(_ r: GenerationResult) {
    let line = String(format: "[prompt %d tokens (%d reused), %.1f tokens/s; generated %d tokens, %.1f tokens/s; finish: %@]\n",
                      r.promptTokens, r.reusedPromptTokens, r.prefillTokensPerSecond, r.tokenIDs.count,
                      r.decodeTokensPerSecond, r.finishReason.rawValue)
    FileHandle.standardError.write(Data(line.utf8))
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streamed to standard output.",
        discussion: """
            Without --chat the prompt is used as is (BOS only if the model's metadata asks for it). With --chat it is \
            a user message formatted with the model's chat template (and --system as the system message). \
            Statistics go to standard error.
            """
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightOptions: WeightOptions
    @Option(name: .long, help: "The prompt text.") var prompt: String
    @Flag(name: .long, help: "Format the prompt with the model's chat template.") var chat = false
    @Option(name: .long, help: "System message (with --chat).") var system: String?
    @Option(name: .customLong("max-tokens"), help: "Most new tokens.") var maxTokens: Int = 256
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .customLong("stop"), help: "Stop when this text appears (repeatable); it is not printed.")
    var stops: [String] = []
    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .long, help: "Do not print statistics to standard error.") var quiet = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0, got \(maxTokens)") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        runtime.apply()
        let lm = try modelOptions.load(dtype: weightOptions.dtype)
        let ids: [Int32]
        if chat {
            var turns: [ChatMessage] = []
            if let system { turns.append(.system(system)) }
            turns.append(.user(prompt))
            ids = try lm.encodeChat(turns)
        } else {
            ids = lm.encode(prompt)
        }
        let parameters = GenerationParameters(maxTokens: maxTokens, sampling: sampling.parameters, stopStrings: stops)
        let result = try Generator(lm).generate(prompt: ids, parameters: parameters) { writeOut($0) }
        writeOut("\n")
        if !quiet { reportStatistics(result) }
    }
}
