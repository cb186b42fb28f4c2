import ArgumentParser
import Foundation
import LoRAKit

@main
struct LoRAKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lorakit",
        abstract: "Low-rank adaptation of foundation models: fine-tune, evaluate, merge and serve LoRA adapters.",
        version: LoRAKitInfo.version,
        subcommands: [PullCommand.self, GenerateCommand.self, ChatCommand.self, TrainCommand.self, EvalCommand.self,
                      ServeCommand.self, LogitsCommand.self, InspectCommand.self, MergeCommand.self, BenchCommand.self]
    )

    /// Runs the command line. Help and version go to standard output with exit code 0; every error — a bad
    /// flag or a failure while running — is one line on standard error and exit code 1, never a trap.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = oneLine(self.message(for: error))
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }

    /// The first non-empty line of an error message, with ArgumentParser's own "Error: " prefix removed.
    static func oneLine(_ message: String) -> String {
        let line = message.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        var text = line.map(String.init) ?? "unknown error"
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        return text
    }
}
