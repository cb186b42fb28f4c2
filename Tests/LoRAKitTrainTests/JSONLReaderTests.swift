import Foundation
import Testing
@testable import LoRAKitTrain

@Suite struct JSONLReaderTests {
    func parse(_ text: String) throws -> [TrainingExample] { try JSONLReader.parse(Data(text.utf8), file: "d.jsonl") }

    @Test func readsEachOfTheThreeFormats() throws {
        #expect(try parse(#"{"text": "hello"}"# + "\n\n" + #"{"text": "world"}"#) == [.text("hello"), .text("world")])
        #expect(try parse(#"{"prompt": "2+2=", "completion": "4"}"#) == [.promptCompletion(prompt: "2+2=", completion: "4")])
        let chat = try parse(#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"#)
        #expect(chat == [.chat([.init(role: "user", content: "hi"), .init(role: "assistant", content: "yo")])])
    }

    @Test(arguments: [
        ("{\"text\": \"a\"}\n{\"text\": \"b\"\n", 2, "not valid JSON"),
        ("{\"text\": \"a\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}", 2, "one format per file"),
        ("{\"txt\": \"a\"}", 1, "unknown fields [txt]"),
        ("{\"prompt\": \"p\"}", 1, "\"completion\" must be"),
        ("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 1, "no assistant message"),
        ("{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", 1, "messages[0].role"),
        ("[1, 2]", 1, "expected a JSON object"),
        ("\n\n{\"text\": 5}", 3, "\"text\" must be"),
    ])
    func badLinesAreNamedByLine(text: String, line: Int, problem: String) {
        let error = #expect(throws: DataError.self) { try parse(text) }
        #expect(error?.line == line)
        #expect(error?.description.hasPrefix("d.jsonl:\(line): ") == true)
        #expect(error?.problem.contains(problem) == true, "\(error?.problem ?? "")")
    }

    @Test func emptyFileIsAnError() {
        let error = #expect(throws: DataError.self) { try parse("\n  \n") }
        #expect(error?.line == nil)
        #expect(error?.problem.contains("empty") == true)
    }

    @Test func folderWithSplitsAndSeededHoldOut() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = (0..<20).map { #"{"text": "example \#($0)"}"# }.joined(separator: "\n")
        try Data(lines.utf8).write(to: folder.appendingPathComponent("train.jsonl"))
        let folderData = try TrainingData.load(folder)
        #expect(folderData.train.count == 20 && folderData.valid.isEmpty)

        let split = try TrainingData.load(folder.appendingPathComponent("train.jsonl"), validSplit: 0.25, seed: 3)
        #expect(split.train.count == 15 && split.valid.count == 5)
        let again = try TrainingData.load(folder.appendingPathComponent("train.jsonl"), validSplit: 0.25, seed: 3)
        #expect(again.valid == split.valid)
        let other = try TrainingData.load(folder.appendingPathComponent("train.jsonl"), validSplit: 0.25, seed: 4)
        #expect(other.valid != split.valid)
        #expect(Set((split.train + split.valid).map { "\($0)" }).count == 20)

        try Data(#"{"text": "v"}"#.utf8).write(to: folder.appendingPathComponent("valid.jsonl"))
        #expect(try TrainingData.load(folder).valid == [.text("v")])
        #expect(throws: DataError.self) { try TrainingData.load(folder.appendingPathComponent("nope")) }
    }
}
