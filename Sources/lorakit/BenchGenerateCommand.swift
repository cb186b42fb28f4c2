import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit bench generate [--json] [--threads N]`: prefill and decode speed, the same protocol as
/// scripts/baselines/hf_generate.py (its peer): one warm-up, prefill best of `--repeats`, then greedy decode
/// of `--new-tokens` with the KV cache, one token per forward, no EOS stop.
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prefill and decode tokens/s and peak memory on a real model (fp32 or --dtype bf16 weights)."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightOptions: WeightOptions
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for prefill.") var promptTokens: Int = 512
    @Option(name: .customLong("new-tokens"), help: "Tokens to decode.") var newTokens: Int = 128
    @Option(name: .long, help: "Prefill timings to take the best of.") var repeats: Int = 2
    @Flag(name: .long, help: "Print one JSON line.") var json = false
    @OptionGroup var runtime: RuntimeOptions

    static let text = "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named "
        + "after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. "

    struct Report: Encodable {
        let implementation = "lorakit"
        let prefill_tokens_per_s: Double
        let decode_tokens_per_s: Double
        let peak_rss_mb: Double
        let threads: Int
        let prompt_tokens: Int
        let new_tokens: Int
        let dtype: String
        let load_seconds: Double
    }

    func validate() throws {
        guard promptTokens >= 1, newTokens >= 1, repeats >= 1 else {
            throw ValidationError("--prompt-tokens, --new-tokens and --repeats must be ≥ 1")
        }
    }

    func run() throws {
        runtime.apply()
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let lm = try modelOptions.load(dtype: weightOptions.dtype)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let model = lm.model
        var ids: [Int32] = []
        while ids.count < promptTokens { ids += lm.tokenizer.encode(Self.text, addSpecialTokens: false) }
        ids = Array(ids.prefix(promptTokens))
        let seconds = { (start: UInt64) in Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

        let (prefillBest, decodeSeconds, continuation) = withNoGrad { () -> (Double, Double, [Int32]) in
            // Warm-up: a short prefill and a few decode steps.
            let warm = model.makeCache(capacity: 32)
            var next = Sampler.argmax(model.logits(Array(ids.prefix(16)), cache: warm).scalars)
            for _ in 0..<4 { next = Sampler.argmax(model.logits([Int32(next)], cache: warm).scalars) }

            var best = Double.infinity
            var cache = model.makeCache(capacity: promptTokens + newTokens)
            var logits: [Float] = []
            for _ in 0..<repeats {
                cache = model.makeCache(capacity: promptTokens + newTokens)
                let start = DispatchTime.now().uptimeNanoseconds
                logits = model.logits(ids, cache: cache).scalars
                best = min(best, seconds(start))
            }
            var generated: [Int32] = []
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<newTokens {
                let token = Int32(Sampler.argmax(logits))
                generated.append(token)
                logits = model.logits([token], cache: cache).scalars
            }
            return (best, seconds(start), generated)
        }
        let peakMB = ProcessMemory.peakResidentMB()
        let report = Report(prefill_tokens_per_s: (Double(promptTokens) / prefillBest * 10).rounded() / 10,
                            decode_tokens_per_s: (Double(newTokens) / decodeSeconds * 100).rounded() / 100,
                            peak_rss_mb: (peakMB * 10).rounded() / 10,
                            threads: runtime.resolvedThreads, prompt_tokens: promptTokens, new_tokens: newTokens,
                            dtype: weightOptions.dtype.rawValue,
                            load_seconds: (loadSeconds * 100).rounded() / 100)
        let preview = lm.tokenizer.decode(Array(continuation.prefix(24)), skipSpecialTokens: false)
        FileHandle.standardError.write(Data("continuation: \(preview.debugDescription)…\n".utf8))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            writeOut(String(format: "prefill %d tokens: %.1f tokens/s\ndecode %d tokens: %.2f tokens/s\npeak RSS %.1f MB "
                            + "(threads %d, \(report.dtype) weights, load %.2f s)\n", promptTokens, report.prefill_tokens_per_s, newTokens,
                            report.decode_tokens_per_s, report.peak_rss_mb, report.threads, report.load_seconds))
        }
    }
}
