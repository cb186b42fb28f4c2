import ArgumentParser
import LoRAKit
import Testing
@testable import lorakit

@Suite struct EvalCommandTests {
    @Test func parsesEveryFlag() throws {
        let command = try EvalCommand.parse([
            "--model", "smollm2-135m", "--adapter", "runs/a/adapter:0.5", "--data", "data/demo", "--split", "valid",
            "--limit", "20", "--batch-size", "4", "--max-seq-len", "128", "--threads", "2", "--json",
        ])
        #expect(command.modelOptions.adapters == ["runs/a/adapter:0.5"])
        #expect(command.data == "data/demo" && command.split == .valid && command.limit == 20)
        #expect(command.batchSize == 4 && command.maxSequenceLength == 128 && command.json)
        #expect(try EvalCommand.parse(["--data", "d"]).split == .test)
    }

    @Test(arguments: [["--data", "d", "--limit", "0"], ["--data", "d", "--split", "dev"], ["--split", "test"],
                      ["--data", "d", "--batch-size", "0"]])
    func rejectsBadValues(arguments: [String]) {
        #expect(throws: (any Error).self) { try EvalCommand.parse(arguments) }
    }

    @Test func describesTheReport() {
        let report = EvaluationReport(
            examples: 3, loss: 2, perplexity: 7.389, targetTokens: 24, truncated: 0, accuracy: 1.0 / 3, correct: 1,
            scored: 3, mismatches: [.init(prompt: "Long date for 2024-03-05?", expected: "5 March 2024",
                                          generated: "March 5,\n2024")], seconds: 1.5)
        #expect(EvalCommand.describe(report, file: "data/demo/test.jsonl", adapters: []) == """
            data: data/demo/test.jsonl (3 examples)
            adapters: none (base model)
            loss: 2.0000   perplexity: 7.389   (24 target tokens)
            task accuracy: 33.3% (1/3 exact match)
              "Long date for 2024-03-05?": expected "5 March 2024", got "March 5,\\n2024"
            (1.5 s)

            """)
    }
}
