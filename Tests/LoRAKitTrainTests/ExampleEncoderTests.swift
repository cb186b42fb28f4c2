import Foundation
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitTrain

@Suite struct ExampleEncoderTests {
    static let lm: Result<LanguageModel, Error> = Result { try TrainTestSupport.sharedModel() }

    func trainedText(_ e: EncodedExample, _ lm: LanguageModel) -> String {
        lm.tokenizer.decode(zip(e.ids, e.lossMask).filter(\.1).map(\.0))
    }

    @Test func chatLossCoversOnlyAssistantTurns() throws {
        let lm = try Self.lm.get()
        let example = TrainingExample.chat([.init(role: "user", content: "Hi"), .init(role: "assistant", content: "Hello!"),
                                            .init(role: "user", content: "Bye"), .init(role: "assistant", content: "See you.")])
        let encoded = try ExampleEncoder(languageModel: lm).encode(example)
        // The whole conversation is the template's rendering; the trained tokens are the two answers with their ends.
        #expect(encoded.ids == (try lm.encodeChat([.user("Hi"), .assistant("Hello!"), .user("Bye"), .assistant("See you.")],
                                                   addGenerationPrompt: false)))
        #expect(trainedText(encoded, lm) == "Hello!<|im_end|>\nSee you.<|im_end|>\n")
        let all = try ExampleEncoder(languageModel: lm, trainOnPrompt: true).encode(example)
        #expect(all.lossMask.dropFirst().allSatisfy { $0 } && all.lossMask[0] == false)
    }

    @Test func promptCompletionUsesTheTemplateAndTrainsTheCompletion() throws {
        let lm = try Self.lm.get()
        let encoded = try ExampleEncoder(languageModel: lm).encode(.promptCompletion(prompt: "2+2?", completion: "4"))
        #expect(trainedText(encoded, lm) == "4<|im_end|>\n")
        #expect(lm.tokenizer.decode(encoded.ids).contains("<|im_start|>user\n2+2?<|im_end|>"))
    }

    @Test func textTrainsEverythingAndEndsWithEOS() throws {
        let lm = try Self.lm.get()
        let encoded = try ExampleEncoder(languageModel: lm).encode(.text("The sky is blue."))
        #expect(encoded.ids.last == lm.tokenizer.eosTokenID)
        #expect(encoded.targetCount == encoded.ids.count - 1)
    }

    @Test func longExamplesAreCutAndFlagged() throws {
        let lm = try Self.lm.get()
        let encoder = ExampleEncoder(languageModel: lm, maxSequenceLength: 8)
        let long = try encoder.encode(.text(String(repeating: "word ", count: 40)))
        #expect(long.ids.count == 8 && long.truncated)
        #expect(try encoder.encode(.text("a b")).truncated == false)
    }

    @Test func batchesShiftTargetsAndIgnorePadding() {
        let a = EncodedExample(ids: [5, 6, 7], lossMask: [false, false, true])
        let b = EncodedExample(ids: [8, 9], lossMask: [false, true])
        let batch = TrainingBatch([a, b], padID: 0)
        #expect(batch.rows == 2 && batch.length == 3)
        #expect(batch.ids == [5, 6, 7, 8, 9, 0])
        #expect(batch.targets == [ignoreIndex, 7, ignoreIndex, 9, ignoreIndex, ignoreIndex])
        #expect(batch.targetCount == 2 && batch.tokenCount == 5)
    }

    @Test func batchPlanIsSeededCompleteAndBucketed() {
        let lengths = (0..<37).map { ($0 * 7919) % 50 + 1 }
        let plan = BatchPlan(lengths: lengths, batchSize: 4, seed: 3)
        let epoch0 = plan.batches(epoch: 0)
        #expect(epoch0 == plan.batches(epoch: 0))
        #expect(epoch0 != plan.batches(epoch: 1))
        #expect(epoch0.flatMap { $0 }.sorted() == Array(0..<37))
        #expect(epoch0.count == plan.batchesPerEpoch)
        // Bucketing: the padding is far less than random batching would give.
        let padding = epoch0.reduce(0) { sum, batch in
            let longest = batch.map { lengths[$0] }.max()!
            return sum + batch.reduce(0) { $0 + longest - lengths[$1] }
        }
        #expect(padding < 37 * 5)
    }

    @Test func packingKeepsExamplesWholeAndMasks() {
        let examples = (1...5).map { n in EncodedExample(ids: Array(repeating: Int32(n), count: 3),
                                                         lossMask: [false, true, true]) }
        let packed = ExamplePacker.pack(examples, length: 7)
        #expect(packed.map(\.ids.count) == [6, 6, 3])
        #expect(packed[0].lossMask == [false, true, true, false, true, true])
    }
}
