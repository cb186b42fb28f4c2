import Foundation
import Testing
@testable import LoRAKitFormats

@Suite struct HFModelConfigTests {
    static let smolLM2 = #"""
    {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
     "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664,
     "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama", "num_attention_heads": 9,
     "num_hidden_layers": 30, "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
     "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
     "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 49152}
    """#

    static let bert = #"""
    {"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": 384, "intermediate_size": 1536,
     "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
     "num_hidden_layers": 6, "type_vocab_size": 2, "vocab_size": 30522, "eos_token_id": [2, 3], "head_dim": 32}
    """#

    @Test func parsesLlama() throws {
        let c = try HFModelConfig.decode(Data(Self.smolLM2.utf8))
        #expect(c.architectures == ["LlamaForCausalLM"])
        #expect(c.modelType == "llama")
        #expect(c.hiddenSize == 576 && c.intermediateSize == 1536)
        #expect(c.numAttentionHeads == 9 && c.keyValueHeads == 3 && c.resolvedHeadDim == 64)
        #expect(c.numHiddenLayers == 30 && c.vocabSize == 49152 && c.maxPositionEmbeddings == 8192)
        #expect(c.rmsNormEps == 1e-5 && c.ropeTheta == 100_000 && c.layerNormEps == nil)
        #expect(c.tieWordEmbeddings == true && c.tiesWordEmbeddings)
        #expect(c.bosTokenID == 1 && c.eosTokenIDs == [2])
        #expect(c.hiddenAct == "silu" && c.torchDtype == "bfloat16" && c.typeVocabSize == nil)
        // Encoding then decoding gives the same configuration.
        let again = try HFModelConfig.decode(JSONEncoder().encode(c))
        #expect(again == c)
    }

    @Test func parsesBertWithEOSList() throws {
        let c = try HFModelConfig.decode(Data(Self.bert.utf8))
        #expect(c.modelType == "bert" && c.layerNormEps == 1e-12 && c.typeVocabSize == 2)
        #expect(c.eosTokenIDs == [2, 3] && c.keyValueHeads == 12 && c.resolvedHeadDim == 32)
        #expect(c.rmsNormEps == nil && c.bosTokenID == nil)
        #expect(try HFModelConfig.decode(JSONEncoder().encode(c)) == c)
    }

    @Test(arguments: ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads"])
    func missingRequiredFieldIsNamed(_ field: String) throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(Self.smolLM2.utf8)) as? [String: Any])
        object.removeValue(forKey: field)
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = #expect(throws: FormatError.self) { try HFModelConfig.decode(data, path: "/m/config.json") }
        #expect(error == .missingField(path: "/m/config.json", field: field))
        #expect(error?.description == "/m/config.json: required field '\(field)' is missing")
    }

    @Test func invalidValuesThrow() throws {
        let wrongType = Self.smolLM2.replacingOccurrences(of: "\"hidden_size\": 576", with: "\"hidden_size\": \"big\"")
        let e1 = #expect(throws: FormatError.self) { try HFModelConfig.decode(Data(wrongType.utf8)) }
        #expect(e1?.description.contains("hidden_size") == true)
        let zero = Self.smolLM2.replacingOccurrences(of: "\"num_hidden_layers\": 30", with: "\"num_hidden_layers\": 0")
        #expect(throws: FormatError.self) { try HFModelConfig.decode(Data(zero.utf8)) }
        #expect(throws: FormatError.self) { try HFModelConfig.decode(Data("not json".utf8)) }
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let e2 = #expect(throws: FormatError.self) { try HFModelConfig.load(from: dir.file("config.json")) }
        #expect(e2?.description.contains("config.json") == true)
        try Data(Self.smolLM2.utf8).write(to: dir.file("config.json"))
        #expect(try HFModelConfig.load(from: dir.file("config.json")).hiddenSize == 576)
    }
}
