import ArgumentParser
import LoRAKit

@main
struct LoRAKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lorakit",
        abstract: "Low-rank adaptation of foundation models: fine-tune, evaluate, merge and serve LoRA adapters.",
        version: LoRAKitInfo.version,
        subcommands: [BenchCommand.self]
    )
}
