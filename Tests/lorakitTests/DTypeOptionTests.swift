import ArgumentParser
import Testing
@testable import lorakit
import LoRAKit

/// `--dtype fp32|bf16` on generate, chat, logits and bench generate.
@Suite struct DTypeOptionTests {
    @Test(arguments: [(["bench", "generate", "--dtype", "bf16"], WeightDType.bfloat16),
                      (["bench", "generate"], WeightDType.float32),
                      (["generate", "--prompt", "hi", "--dtype", "fp32"], WeightDType.float32),
                      (["logits", "--prompt", "hi", "--dtype", "bfloat16"], WeightDType.bfloat16),
                      (["chat", "--dtype", "bf16"], WeightDType.bfloat16)])
    func parses(arguments: [String], expected: WeightDType) throws {
        let command = try LoRAKitCommand.parseAsRoot(arguments)
        let dtype: WeightDType? = switch command {
        case let c as GenerateBench: c.weightOptions.dtype
        case let c as GenerateCommand: c.weightOptions.dtype
        case let c as LogitsCommand: c.weightOptions.dtype
        case let c as ChatCommand: c.weightOptions.dtype
        default: nil
        }
        #expect(dtype == expected)
    }

    @Test func badDTypeIsAOneLineUserError() {
        do {
            _ = try LoRAKitCommand.parseAsRoot(["bench", "generate", "--dtype", "fp8"])
            Issue.record("--dtype fp8 was accepted")
        } catch {
            let message = LoRAKitCommand.message(for: error)
            #expect(message.contains("fp8") && message.contains("--dtype"))
            #expect(!message.contains("\n"))
            #expect(LoRAKitCommand.exitCode(for: error) != .success)
        }
    }
}
