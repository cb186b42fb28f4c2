import ArgumentParser
import Foundation
import LoRAKit

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the token ids of a prompt and the logits of its last position.",
        discussion: "No chat template; BOS only if the model's metadata says add_bos_token. For parity checks against other implementations."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightOptions: WeightOptions
    @Option(name: .long, help: "The prompt text.") var prompt: String
    @Flag(name: .long, help: #"Print {"token_ids":[…],"last_logits":[…]} as JSON."#) var json = false
    @Option(name: .long, help: "How many top tokens to show without --json.") var top: Int = 10
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        let lm = try modelOptions.load(dtype: weightOptions.dtype)
        let ids = lm.encode(prompt)
        guard !ids.isEmpty else { throw ValidationError("the prompt encodes to no tokens") }
        let logits = withNoGrad { lm.model.logits(ids, batch: 1) }.scalars
        if json {
            struct Output: Encodable { let token_ids: [Int32]; let last_logits: [Float] }
            let data = try JSONEncoder().encode(Output(token_ids: ids, last_logits: logits))
            writeOut(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        writeOut("token ids (\(ids.count)): \(ids.map(String.init).joined(separator: " "))\n")
        let order = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(max(top, 0))
        for id in order {
            let piece = lm.tokenizer.decode([Int32(id)], skipSpecialTokens: false)
            writeOut(String(format: "%8d  %10.4f  %@\n", id, logits[id], piece.debugDescription))
        }
    }
}
