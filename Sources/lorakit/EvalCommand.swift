import ArgumentParser
import Foundation
import LoRAKit

extension DataSplit: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model (with adapters) on a data split: loss, perplexity and exact-match task accuracy.",
        discussion: """
            --data is a data folder (train.jsonl, valid.jsonl, test.jsonl) or one .jsonl file. The loss covers \
            completion / assistant tokens only, as in training. Task accuracy generates greedily from each prompt \
            (the conversation before the last assistant turn, through the chat template) and counts answers equal \
            to the reference after trimming whitespace; {"text"} examples have no answer and only count for the loss.
            """
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "A data folder with train/valid/test.jsonl, or one .jsonl file.") var data: String
    @Option(name: .long, help: "Which split of a data folder: test, valid or train.") var split: DataSplit = .test
    @Option(name: .long, help: "Evaluate only the first N examples.") var limit: Int?
    @Option(name: .customLong("batch-size"), help: "Examples per forward pass for the loss.") var batchSize: Int = 8
    @Option(name: .customLong("max-seq-len"), help: "Longer examples are cut to this many tokens for the loss.")
    var maxSequenceLength: Int = 2048
    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1, got \(limit)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        guard maxSequenceLength >= 2 else { throw ValidationError("--max-seq-len must be ≥ 2, got \(maxSequenceLength)") }
    }

    struct Output: Encodable {
        let model: String
        let adapters: [String]
        let data: String
        let report: EvaluationReport

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(model, forKey: .model)
            try container.encode(adapters, forKey: .adapters)
            try container.encode(data, forKey: .data)
            try report.encode(to: encoder)
        }
        enum Keys: String, CodingKey { case model, adapters, data }
    }

    func run() throws {
        runtime.apply()
        let dataURL = URL(fileURLWithPath: (data as NSString).expandingTildeInPath)
        let (file, all) = try split.load(from: dataURL)  // before the model: a wrong path fails fast
        let examples = limit.map { Array(all.prefix($0)) } ?? all
        let lm = try modelOptions.load()
        let evaluation = Evaluation(batchSize: batchSize, maxSequenceLength: maxSequenceLength)
        let interactive = !json && isatty(STDERR_FILENO) != 0
        let report = try evaluation.run(languageModel: lm, examples: examples) { done, total in
            if interactive { FileHandle.standardError.write(Data("\raccuracy: \(done)/\(total)".utf8)) }
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let output = Output(model: lm.source.path, adapters: modelOptions.adapters, data: file.path, report: report)
            writeOut(String(decoding: try encoder.encode(output), as: UTF8.self) + "\n")
        } else {
            writeOut(Self.describe(report, file: file.path, adapters: modelOptions.adapters))
        }
    }

    /// The human-readable report.
    static func describe(_ r: EvaluationReport, file: String, adapters: [String]) -> String {
        var out = "data: \(file) (\(r.examples) examples)\n"
        out += "adapters: \(adapters.isEmpty ? "none (base model)" : adapters.joined(separator: ", "))\n"
        out += String(format: "loss: %.4f   perplexity: %.3f   (%d target tokens", r.loss, r.perplexity, r.targetTokens)
        out += r.truncated > 0 ? ", \(r.truncated) examples truncated)\n" : ")\n"
        if let accuracy = r.accuracy {
            out += String(format: "task accuracy: %.1f%% (%d/%d exact match)\n", accuracy * 100, r.correct, r.scored)
        } else {
            out += "task accuracy: n/a (no example has a reference answer: {\"text\"} data)\n"
        }
        for m in r.mismatches {
            out += "  \(quoted(m.prompt)): expected \(quoted(m.expected)), got \(quoted(m.generated))\n"
        }
        out += String(format: "(%.1f s)\n", r.seconds)
        return out
    }

    /// A string in double quotes with newlines escaped, so each mismatch stays on one line.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
