import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels
import Testing
@testable import LoRAKitAdapters

/// PEFT-made adapters on the real model (Tests/Fixtures/peft, scripts/fixtures/make_peft_fixtures.py): our logits
/// must match PEFT's within 1e-3, unmerged and merged, and unmerge must restore the base.
/// Serialized: the tests attach adapters to and merge into one shared model.
@Suite(.serialized) struct PEFTParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/peft")
    static let modelURL = ModelStore().location(of: KnownModel.named("smollm2-135m")!)
    /// A model of the adapters suite's own (other suites share theirs; this one mutates weights).
    static let loaded: Result<LanguageModel, Error> = Result { try LanguageModel.load(modelURL) }

    struct Expected: Decodable {
        struct Prompt: Decodable { let name: String; let ids: [Int32] }
        struct Continuation: Decodable { let prompt: Int; let ids: [Int32] }
        let prompts: [Prompt]
        let continuation: Continuation
    }

    static func model() throws -> LanguageModel {
        try #require(FileManager.default.fileExists(atPath: modelURL.path),
                     "run `lorakit pull smollm2-135m` (make test does) to fetch \(modelURL.path)")
        return try loaded.get()
    }

    static func lastLogits(_ model: LlamaModel, _ ids: [Int32]) -> [Float] {
        withNoGrad { model.logits(ids).scalars }
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    @Test(arguments: ["lora_qv", "rslora_all", "dora_qkvo", "patterns"])
    func logitsMatchPEFTUnmergedAndMerged(_ name: String) throws {
        let lm = try Self.model()
        let folder = Self.fixtures.appendingPathComponent(name)
        let expected = try JSONDecoder().decode(Expected.self,
                                                from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let reference = try SafeTensorsFile(url: folder.appendingPathComponent("expected.safetensors"))
        let set = AdapterSet(lm.model.linears)
        let baseWeights = lm.model.linears.map(\.weight)
        let adapter = try PEFTAdapterFile.load(from: folder, for: lm.model.linears)
        try set.add(adapter)
        try set.activate(name)
        for (i, prompt) in expected.prompts.enumerated() {
            let ours = Self.lastLogits(lm.model, prompt.ids)
            let peft = try reference.floats("prompt\(i).unmerged_last_logits")
            let diff = Self.maxAbs(ours, peft)
            #expect(diff < 1e-3, "\(name) prompt \(i) unmerged: max-abs \(diff)")
        }
        // Greedy continuation with the adapter active equals PEFT's.
        let continuation = expected.continuation
        var ids = expected.prompts[continuation.prompt].ids
        var generated: [Int32] = []
        let cache = lm.model.makeCache(batch: 1, capacity: ids.count + continuation.ids.count + 1)
        var next = withNoGrad { lm.model.logits(ids, cache: cache) }
        while generated.count < continuation.ids.count {
            let token = Int32(Sampler.argmax(next.scalars))
            generated.append(token)
            if token == 2 { break }
            ids = [token]
            next = withNoGrad { lm.model.logits(ids, cache: cache) }
        }
        #expect(generated == continuation.ids, "\(name) greedy continuation")

        try set.merge(name)
        for (i, prompt) in expected.prompts.enumerated() {
            let ours = Self.lastLogits(lm.model, prompt.ids)
            let peft = try reference.floats("prompt\(i).merged_last_logits")
            let diff = Self.maxAbs(ours, peft)
            #expect(diff < 1e-3, "\(name) prompt \(i) merged: max-abs \(diff)")
        }
        try set.unmerge(name)
        var worst: Float = 0
        for (restored, original) in zip(lm.model.linears.map(\.weight), baseWeights) {
            worst = max(worst, Self.maxAbs(restored.scalars, original.scalars))
        }
        #expect(worst < 1e-6, "\(name): unmerge left max-abs \(worst)")
        try set.remove(name)
        #expect(lm.model.linears.allSatisfy { $0.adapters.isEmpty })
        // Put the exact base weights back for the next case (unmerge is exact only to float rounding).
        for (linear, weight) in zip(lm.model.linears, baseWeights) { linear.weight = weight }
    }
}

/// `lorakit merge`'s writer: an F32 GGUF with a DoRA adapter folded in gives the logits of base + adapter.
@Suite struct MergedModelWriterTests {
    @Test func mergedGGUFMatchesTheAdaptedModel() throws {
        let lm = try LanguageModel.load(PEFTParityTests.modelURL)
        let set = AdapterSet(lm.model.linears)
        try set.loadAndActivate([try AdapterSpec(parsing: PEFTParityTests.fixtures.appendingPathComponent("dora_qkvo").path)])
        let ids: [Int32] = [504, 3575, 282, 4649, 314]
        let adapted = PEFTParityTests.lastLogits(lm.model, ids)
        try set.merge("dora_qkvo")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-merged-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: out) }
        try MergedModelWriter.writeGGUF(lm.model, metadataFrom: try GGUFFile(url: PEFTParityTests.modelURL), to: out,
                                        type: .f32)
        let merged = try LanguageModel.load(out)
        #expect(merged.model.linears.allSatisfy { $0.adapters.isEmpty })
        let diff = PEFTParityTests.maxAbs(PEFTParityTests.lastLogits(merged.model, ids), adapted)
        #expect(diff < 1e-3, "merged GGUF vs base + adapter: max-abs \(diff)")
        #expect(merged.chatTemplate == lm.chatTemplate)
    }
}

/// `lorakit merge --out DIR`: a Hugging Face folder that loads back with the same logits and token ids.
@Suite struct HuggingFaceExportTests {
    @Test func exportedFolderLoadsBackIdentically() throws {
        let lm = try LanguageModel.load(PEFTParityTests.modelURL)
        let set = AdapterSet(lm.model.linears)
        try set.loadAndActivate([try AdapterSpec(parsing: PEFTParityTests.fixtures.appendingPathComponent("lora_qv").path)])
        try set.merge("lora_qv")
        let gguf = try GGUFFile(url: PEFTParityTests.modelURL)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-hf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try MergedModelWriter.writeHuggingFace(lm.model, vocabulary: try GGUFTokenizerLoader.vocabulary(from: gguf),
                                               to: folder)
        let exported = try LanguageModel.load(folder)
        let ids: [Int32] = [504, 3575, 282, 4649, 314]
        let diff = PEFTParityTests.maxAbs(PEFTParityTests.lastLogits(exported.model, ids),
                                          PEFTParityTests.lastLogits(lm.model, ids))
        #expect(diff < 1e-5, "exported HF folder vs merged model: max-abs \(diff)")
        for text in ["a  2 3.14", "<|im_start|>user\nHi 👋<|im_end|>\n", "def f(x):\n    return x**2"] {
            #expect(exported.tokenizer.encode(text, addSpecialTokens: false) == lm.tokenizer.encode(text, addSpecialTokens: false), "\(text)")
        }
        #expect(exported.chatTemplate == lm.chatTemplate)
    }
}
