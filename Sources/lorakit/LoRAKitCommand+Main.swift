import ArgumentParser
import Foundation

extension LoRAKitCommand {
    /// Runs the CLI: a user error (bad flag, bad value, failed validation, thrown error) prints one line
    /// `error: …` on stderr and exits 1; `--help` / `--version` print and exit 0. Never a trap or a stack trace.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}
