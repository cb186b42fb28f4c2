import ArgumentParser
import Foundation
import LoRAKit

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal (multi-turn; /reset starts over, /exit or end of input quits).",
        discussion: "Each turn re-uses the key/value cache of the conversation so far; only new tokens are processed."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightOptions: WeightOptions
    @Option(name: .long, help: "System message.") var system: String?
    @Option(name: .customLong("max-tokens"), help: "Most new tokens per reply.") var maxTokens: Int = 512
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .long, help: "Print statistics after each reply to standard error.") var verbose = false

    func run() throws {
        runtime.apply()
        let lm = try modelOptions.load(dtype: weightOptions.dtype)
        let generator = Generator(lm)
        let start: [ChatMessage] = system.map { [.system($0)] } ?? []
        var turns = start
        let interactive = isatty(STDIN_FILENO) != 0
        if interactive { writeOut("Chatting with \(lm.source.lastPathComponent). /reset starts over, /exit quits.\n") }
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/reset" {
                turns = start
                generator.reset()
                writeOut("(conversation reset)\n")
                continue
            }
            turns.append(.user(text))
            let ids = try lm.encodeChat(turns)
            let parameters = GenerationParameters(maxTokens: maxTokens, sampling: sampling.parameters)
            let result = try generator.generate(prompt: ids, parameters: parameters) { writeOut($0) }
            writeOut("\n")
            turns.append(.assistant(result.text))
            if verbose { reportStatistics(result) }
        }
    }
}
