import Foundation
import Testing
@testable import LoRAKitModels
@testable import LoRAKitTrain

/// The default model, loaded once for this file's tests.
private enum EvaluationModel {
    static let url = ModelStore().location(of: KnownModel.named("smollm2-135m")!)
    static let loaded: Result<LanguageModel, Error> = Result { try LanguageModel.load(url) }
    static func model() throws -> LanguageModel {
        try #require(FileManager.default.fileExists(atPath: url.path),
                     "run `lorakit pull smollm2-135m` (make test does) to fetch \(url.path)")
        return try loaded.get()
    }
}

/// transformers' greedy answer to this question (Tests/Fixtures/llama/llama.json, prompt `chat`): "12 times 7 is 80."
private let question = "What is 12 times 7? Answer briefly."
private func chat(_ answer: String) -> TrainingExample {
    .chat([.init(role: "user", content: question), .init(role: "assistant", content: answer)])
}
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct TaskAccuracyTests {
    @Test func matchesTheReferenceGreedyAnswer() throws {
        let lm = try EvaluationModel.model()
        // The reference answer is transformers' greedy output, with whitespace around it that trimming removes.
        let result = try TaskAccuracy().evaluate(languageModel: lm, examples: [chat("  12 times 7 is 80.\n")])
        #expect(result.correct == 1 && result.total == 1 && result.accuracy == 1)
        #expect(result.mismatches.isEmpty)
    }

    @Test func aWrongReferenceScoresZeroAndShowsWhatWasGenerated() throws {
        let lm = try EvaluationModel.model()
        let examples = [chat("84"), chat("12 times 7 is 80. Indeed."), .text("no answer to score")]
        let result = try TaskAccuracy().evaluate(languageModel: lm, examples: examples)
        #expect(result.correct == 0 && result.total == 2 && result.skipped == 1 && result.accuracy == 0)
        #expect(result.mismatches.first == .init(prompt: question, expected: "84", generated: "12 times 7 is 80."))
        #expect(result.mismatches.count == 2)
    }

    @Test func promptCompletionIsAskedAsAUserTurn() throws {
        let lm = try EvaluationModel.model()
        let result = try TaskAccuracy().evaluate(
            languageModel: lm, examples: [.promptCompletion(prompt: question, completion: "12 times 7 is 80.")])
        #expect(result.correct == 1)
    }

    @Test func textOnlyDataHasNoAccuracy() throws {
        let lm = try EvaluationModel.model()
        let result = try TaskAccuracy().evaluate(languageModel: lm, examples: [.text("Hello.")])
        #expect(result.total == 0 && result.skipped == 1 && result.accuracy == nil)
    }

    /// The bundled demo task is one the base model cannot do (data/demo, scripts/data/make_demo_dataset.py).
    @Test func theBaseModelFailsTheDemoTask() throws {
        let lm = try EvaluationModel.model()
        let (_, examples) = try DataSplit.test.load(from: repositoryRoot.appendingPathComponent("data/demo"))
        let report = try Evaluation().run(languageModel: lm, examples: Array(examples.prefix(4)))
        #expect(report.examples == 4 && report.scored == 4 && report.correct == 0)
        #expect(report.loss > 1 && report.perplexity == exp(report.loss))
        // The loss covers each answer's tokens and its end-of-turn token, nothing else.
        let encoder = ExampleEncoder(languageModel: lm)
        let targets = try examples.prefix(4).map { try encoder.encode($0).targetCount }.reduce(0, +)
        #expect(report.targetTokens == targets && report.truncated == 0)
    }
}

@Suite struct DataSplitTests {
    func folder(with files: [String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-split-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in files {
            try Data(#"{"prompt": "a", "completion": "b"}"#.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    @Test func readsTheSplitOrAFile() throws {
        let dir = try folder(with: ["train.jsonl", "valid.jsonl"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (file, examples) = try DataSplit.valid.load(from: dir)
        #expect(file.lastPathComponent == "valid.jsonl" && examples.count == 1)
        let direct = try DataSplit.test.load(from: dir.appendingPathComponent("train.jsonl"))
        #expect(direct.file.lastPathComponent == "train.jsonl")
    }

    @Test func aMissingSplitNamesTheFilesThatExist() throws {
        let dir = try folder(with: ["train.jsonl", "valid.jsonl"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: DataError.self) { try DataSplit.test.load(from: dir) }
        #expect(error?.description == "\(dir.path): no test.jsonl in this folder (it has train.jsonl, valid.jsonl)")
    }

    @Test func aMissingFolderIsOneLine() throws {
        let error = #expect(throws: DataError.self) { try DataSplit.test.load(from: URL(fileURLWithPath: "/no/such")) }
        #expect(error?.description == "/no/such: no such file or folder")
    }
}
