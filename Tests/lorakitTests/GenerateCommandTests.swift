import ArgumentParser
import LoRAKit
import Testing
@testable import lorakit

@Suite struct GenerateCommandTests {
    @Test func parsesEveryGenerationFlag() throws {
        let command = try GenerateCommand.parse([
            "--model", "m.gguf", "--prompt", "Hi", "--chat", "--system", "Be brief.", "--max-tokens", "12",
            "--temperature", "0", "--top-k", "40", "--top-p", "0.9", "--min-p", "0.05", "--repetition-penalty", "1.1",
            "--seed", "7", "--stop", "\n\n", "--stop", "END", "--threads", "2",
        ])
        #expect(command.modelOptions.model == "m.gguf")
        #expect(command.chat && command.system == "Be brief." && command.maxTokens == 12)
        #expect(command.sampling.parameters == SamplingParameters(temperature: 0, topK: 40, topP: 0.9, minP: 0.05,
                                                                  repetitionPenalty: 1.1, seed: 7))
        #expect(command.stops == ["\n\n", "END"])
        #expect(command.runtime.threads == 2)
    }

    @Test(arguments: [["--prompt", "x", "--temperature", "-1"], ["--prompt", "x", "--top-p", "0"],
                      ["--prompt", "x", "--max-tokens", "-3"], ["--prompt", "x", "--system", "s"]])
    func rejectsBadValues(arguments: [String]) {
        #expect(throws: (any Error).self) { try GenerateCommand.parse(arguments) }
    }

    @Test func subcommandsAreRegistered() throws {
        for name in ["generate", "chat", "eval", "logits", "inspect"] {
            #expect(LoRAKitCommand.configuration.subcommands.contains { $0.configuration.commandName == name })
        }
        #expect(BenchCommand.configuration.subcommands.contains { $0.configuration.commandName == "generate" })
    }
}
