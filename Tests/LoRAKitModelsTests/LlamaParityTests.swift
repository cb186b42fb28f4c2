import Foundation
import LoRAKitCore
import LoRAKitFormats
import Testing
@testable import LoRAKitModels

/// The default model loaded once per test process (tests run in parallel; loading costs ~1 s and 540 MB).
enum SharedSmolLM {
    static let url = ModelStore().location(of: KnownModel.named("smollm2-135m")!)
    static let loaded: Result<LanguageModel, Error> = Result { try LanguageModel.load(url) }
    static func model() throws -> LanguageModel {
        try #require(FileManager.default.fileExists(atPath: url.path),
                     "run `lorakit pull smollm2-135m` (make test does) to fetch \(url.path)")
        return try loaded.get()
    }
}

/// The transformers reference outputs in Tests/Fixtures/llama (scripts/fixtures/make_llama_fixtures.py).
struct LlamaFixture {
    struct Prompt: Decodable {
        let name: String, text: String, ids: [Int32], continuation: [Int32], stopped_at_eos: Bool
    }
    struct Document: Decodable { let prompts: [Prompt] }
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/llama")
    static let shared: Result<LlamaFixture, Error> = Result { try LlamaFixture() }

    let prompts: [Prompt]
    let tensors: SafeTensorsFile

    init() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("llama.json"))
        prompts = try JSONDecoder().decode(Document.self, from: data).prompts
        tensors = try SafeTensorsFile(url: Self.directory.appendingPathComponent("llama.safetensors"))
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct LlamaParityTests {
    @Test(arguments: 0..<4) func lastPositionLogitsMatchTransformers(prompt index: Int) throws {
        let lm = try SharedSmolLM.model()
        let fixture = try LlamaFixture.shared.get()
        let prompt = fixture.prompts[index]
        let expected = try fixture.tensors.floats("prompt\(index).last_logits")
        let logits = withNoGrad { lm.model.logits(prompt.ids, batch: 1) }
        #expect(logits.shape == [1, 1, 49152])
        let diff = maxAbsDifference(logits.scalars, expected)
        #expect(diff < 1e-3, "prompt '\(prompt.name)': max |Δ| = \(diff)")
    }

    @Test func allPositionLogitsOfTheShortPrompt() throws {
        let lm = try SharedSmolLM.model()
        let fixture = try LlamaFixture.shared.get()
        let ids = fixture.prompts[0].ids
        let expected = try fixture.tensors.floats("prompt0.all_logits")
        let logits = withNoGrad { lm.model.logits(ids, batch: 1, positions: .all) }
        #expect(logits.shape == [1, ids.count, 49152])
        let diff = maxAbsDifference(logits.scalars, expected)
        #expect(diff < 1e-3, "max |Δ| = \(diff)")
    }

    @Test func finalNormActivationsMatch() throws {
        let lm = try SharedSmolLM.model()
        let fixture = try LlamaFixture.shared.get()
        let ids = fixture.prompts[0].ids
        let expected = try fixture.tensors.floats("prompt0.final_norm")  // first 4 positions
        let hidden = withNoGrad { lm.model.hiddenStates(ids, batch: 1) }
        let first4 = Array(hidden.scalars.prefix(expected.count))
        #expect(maxAbsDifference(first4, expected) < 1e-3)
    }

    @Test func embeddingAndFirstLayerActivationsMatch() throws {
        let lm = try SharedSmolLM.model()
        let fixture = try LlamaFixture.shared.get()
        let ids = Array(fixture.prompts[0].ids.prefix(4))
        let (embedded, layer0) = withNoGrad { () -> (Tensor, Tensor) in
            let x = lm.model.embedTokens(ids, shape: [1, 4])
            return (x, lm.model.layers[0](x, positions: [0, 1, 2, 3], cache: nil, layer: 0))
        }
        #expect(maxAbsDifference(embedded.scalars, try fixture.tensors.floats("prompt0.embed")) < 1e-4)
        #expect(maxAbsDifference(layer0.scalars, try fixture.tensors.floats("prompt0.layer0")) < 1e-4)
    }

    @Test(arguments: 0..<4) func greedyContinuationsAreIdentical(prompt index: Int) throws {
        let lm = try SharedSmolLM.model()
        let prompt = try LlamaFixture.shared.get().prompts[index]
        let generator = Generator(lm)
        let result = try generator.generate(prompt: prompt.ids,
                                            parameters: GenerationParameters(maxTokens: 32, stopTokenIDs: [2]))
        #expect(result.tokenIDs == prompt.continuation, "prompt '\(prompt.name)'")
        #expect((result.finishReason == .stop) == prompt.stopped_at_eos)
    }

    @Test(arguments: 0..<4) func promptTokenIDsMatchTransformers(prompt index: Int) throws {
        let lm = try SharedSmolLM.model()
        let prompt = try LlamaFixture.shared.get().prompts[index]
        #expect(lm.encode(prompt.text) == prompt.ids, "prompt '\(prompt.name)'")
    }

    @Test func chatTemplateRendersTheFixturePrompt() throws {
        let lm = try SharedSmolLM.model()
        let prompt = try LlamaFixture.shared.get().prompts[2]
        let text = try lm.renderChat([.user("What is 12 times 7? Answer briefly.")])
        #expect(text == prompt.text)
    }
}
