import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels
import LoRAKitTokenizers

/// Writes a standalone model whose weights have the active adapters folded in (`lorakit merge`).
public enum MergedModelWriter {
    /// Storage type of the written weight matrices.
    public enum WeightType: String, CaseIterable, Sendable {
        case f32, f16

        var ggml: GGMLType { self == .f32 ? .f32 : .f16 }
        /// llama.cpp's `general.file_type`: 0 = all F32, 1 = mostly F16.
        var fileType: UInt32 { self == .f32 ? 0 : 1 }
    }

    /// Every weight of the model by its Hugging Face name, in the model's order.
    public static func namedWeights(of model: LlamaModel) -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = [("model.embed_tokens.weight", model.embedTokens.weight)]
        for (i, layer) in model.layers.enumerated() {
            let p = "model.layers.\(i)."
            out.append((p + "input_layernorm.weight", layer.inputNorm.weight))
            for linear in [layer.attention.qProj, layer.attention.kProj, layer.attention.vProj, layer.attention.oProj] {
                out.append((linear.name + ".weight", linear.weight))
            }
            out.append((p + "post_attention_layernorm.weight", layer.postAttentionNorm.weight))
            for linear in [layer.mlp.gateProj, layer.mlp.upProj, layer.mlp.downProj] {
                out.append((linear.name + ".weight", linear.weight))
            }
        }
        out.append(("model.norm.weight", model.norm.weight))
        if !model.configuration.tieWordEmbeddings { out.append(("lm_head.weight", model.lmHead.weight)) }
        return out
    }

    /// Writes a GGUF file with the source's metadata (tokenizer, chat template, hyper-parameters) and the model's
    /// current weights — so merge the adapters first. Q/K rows get llama.cpp's rotary permutation back; 1-D tensors
    /// stay F32 as llama.cpp expects. The file appears under its name only when complete.
    /// - Throws: the writer's error (disk full, unwritable folder) with the path.
    public static func writeGGUF(_ model: LlamaModel, metadataFrom source: GGUFFile, to url: URL,
                                 type: WeightType = .f16) throws {
        var writer = GGUFWriter(alignment: source.alignment)
        writer.setValues(from: source.metadata)
        writer.setValue(.uint32(type.fileType), forKey: "general.file_type")
        for (name, tensor) in namedWeights(of: model) {
            guard let ggufName = LlamaGGUFNames.ggufName(for: name) else { continue }
            var values = tensor.scalars
            if let heads = LlamaGGUFNames.permutedHeads(for: name, configuration: model.configuration) {
                values.withUnsafeMutableBufferPointer {
                    LlamaGGUFNames.permuteRotaryRows($0, heads: heads, columns: tensor.shape[1])
                }
            }
            try writer.addTensor(ggufName, shape: tensor.shape, values: values,
                                 type: tensor.rank == 1 ? .f32 : type.ggml)
        }
        try writer.write(to: url)
    }

    /// Writes a Hugging Face model folder — `config.json` (LlamaForCausalLM), `model.safetensors`, `tokenizer.json`,
    /// `tokenizer_config.json` (with the chat template) — that transformers and LoRAKit load. The folder is built
    /// under a temporary name and renamed into place when complete.
    /// - Throws: the writer's or tokenizer exporter's error.
    public static func writeHuggingFace(_ model: LlamaModel, vocabulary: BPEVocabulary, to folder: URL,
                                        type: WeightType = .f32) throws {
        try StagedFolder.write(to: folder) { staging in
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (name, tensor) in namedWeights(of: model) {
                try writer.add(name, shape: tensor.shape, values: tensor.scalars, as: type == .f32 ? .f32 : .f16)
            }
            try writer.write(to: staging.appendingPathComponent("model.safetensors"))
            let c = model.configuration
            let config: [String: Any] = [
                "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": c.hiddenSize,
                "intermediate_size": c.intermediateSize, "num_hidden_layers": c.layerCount,
                "num_attention_heads": c.attentionHeads, "num_key_value_heads": c.keyValueHeads, "head_dim": c.headDim,
                "vocab_size": c.vocabularySize, "rms_norm_eps": Double(c.rmsNormEpsilon), "rope_theta": Double(c.ropeTheta),
                "max_position_embeddings": c.maxPositionEmbeddings, "tie_word_embeddings": c.tieWordEmbeddings,
                "hidden_act": "silu", "attention_bias": false, "mlp_bias": false,
                "torch_dtype": type == .f32 ? "float32" : "float16",
                "bos_token_id": vocabulary.bosTokenID.map { Int($0) } as Any? ?? NSNull(),
                "eos_token_id": vocabulary.eosTokenID.map { Int($0) } as Any? ?? NSNull(),
            ]
            try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
                .write(to: staging.appendingPathComponent("config.json"))
            try vocabulary.huggingFaceTokenizerJSON().write(to: staging.appendingPathComponent("tokenizer.json"))
            try vocabulary.huggingFaceTokenizerConfigJSON().write(to: staging.appendingPathComponent("tokenizer_config.json"))
        }
    }
}
