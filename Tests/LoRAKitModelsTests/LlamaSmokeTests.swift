import Foundation
import LoRAKitCore
import LoRAKitFormats
import Testing
@testable import LoRAKitModels

/// A tiny random Llama: shapes, batch > 1, and cached decoding equal to full-sequence logits.
@Suite struct LlamaSmokeTests {
    static func tinyModel(tied: Bool = false) throws -> LlamaModel {
        try LlamaModel(configuration: tinyConfiguration(tied: tied), weights: tinyWeights(tied: tied))
    }

    static func tinyConfiguration(tied: Bool) -> LlamaConfiguration {
        LlamaConfiguration(hiddenSize: 32, intermediateSize: 48, layerCount: 2, attentionHeads: 4,
                           keyValueHeads: 2, vocabularySize: 50, ropeTheta: 10000, tieWordEmbeddings: tied)
    }

    static func tinyWeights(tied: Bool) -> [String: Tensor] {
        let c = tinyConfiguration(tied: tied)
        var weights: [String: Tensor] = [:]
        var seed: UInt64 = 1
        func random(_ shape: [Int], std: Float = 0.2) -> Tensor {
            seed += 1
            return Tensor.randomNormal(shape, std: std, seed: seed)
        }
        let (h, d) = (c.hiddenSize, c.headDim)
        weights["model.embed_tokens.weight"] = random([c.vocabularySize, h], std: 1)
        weights["model.norm.weight"] = Tensor.filled([h], value: 1)
        if !tied { weights["lm_head.weight"] = random([c.vocabularySize, h]) }
        for i in 0..<c.layerCount {
            let p = "model.layers.\(i)."
            weights[p + "input_layernorm.weight"] = Tensor.filled([h], value: 1)
            weights[p + "post_attention_layernorm.weight"] = Tensor.filled([h], value: 1)
            weights[p + "self_attn.q_proj.weight"] = random([c.attentionHeads * d, h])
            weights[p + "self_attn.k_proj.weight"] = random([c.keyValueHeads * d, h])
            weights[p + "self_attn.v_proj.weight"] = random([c.keyValueHeads * d, h])
            weights[p + "self_attn.o_proj.weight"] = random([h, c.attentionHeads * d])
            weights[p + "mlp.gate_proj.weight"] = random([c.intermediateSize, h])
            weights[p + "mlp.up_proj.weight"] = random([c.intermediateSize, h])
            weights[p + "mlp.down_proj.weight"] = random([h, c.intermediateSize])
        }
        return weights
    }

    @Test func loadsAHuggingFaceDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = Self.tinyWeights(tied: false)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (name, t) in weights { try writer.add(name, shape: t.shape, values: t.scalars) }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        let config = """
            {"model_type": "llama", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 50, "rope_theta": 10000.0,
             "rms_norm_eps": 1e-05, "tie_word_embeddings": false}
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))
        let loaded = try LlamaModel(huggingFaceDirectory: directory)
        #expect(loaded.configuration == Self.tinyConfiguration(tied: false))
        let reference = try LlamaModel(configuration: Self.tinyConfiguration(tied: false), weights: weights)
        let ids: [Int32] = [1, 2, 3, 4]
        let a = withNoGrad { loaded.logits(ids, positions: .all) }, b = withNoGrad { reference.logits(ids, positions: .all) }
        #expect(a.scalars == b.scalars)
    }

    @Test(arguments: [false, true]) func shapesForBatchAndPositions(tied: Bool) throws {
        let model = try Self.tinyModel(tied: tied)
        let ids: [Int32] = [1, 5, 9, 3, 7, 2, 4, 8, 6, 0, 11, 12]  // batch 2 × 6
        let all = withNoGrad { model.logits(ids, batch: 2, positions: .all) }
        let last = withNoGrad { model.logits(ids, batch: 2, positions: .last) }
        #expect(all.shape == [2, 6, 50])
        #expect(last.shape == [2, 1, 50])
        #expect(all.scalars.allSatisfy { $0.isFinite })
        // The last position of `.all` equals `.last`, per batch row.
        for b in 0..<2 {
            let a = Array(all.scalars[(b * 6 + 5) * 50 ..< (b * 6 + 6) * 50])
            let l = Array(last.scalars[b * 50 ..< (b + 1) * 50])
            #expect(maxAbsDifference(a, l) < 1e-5)
        }
        // Batch rows are independent: row 1 alone gives the same logits as in the batch.
        let alone = withNoGrad { model.logits(Array(ids[6...]), batch: 1, positions: .all) }
        // Alone the row takes the few-row kernel, in the batch BLAS: another summation order, so fp32 rounding.
        #expect(maxAbsDifference(alone.scalars, Array(all.scalars[(6 * 50)...])) < 1e-4)
    }

    @Test func cachedDecodeEqualsFullSequence() throws {
        let model = try Self.tinyModel()
        let ids: [Int32] = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3, 2, 38, 4, 6]  // batch 2 × 8
        let full = withNoGrad { model.logits(ids, batch: 2, positions: .all) }  // [2, 8, 50]
        let cache = model.makeCache(batch: 2, capacity: 2)  // small: forces the cache to grow
        var stepped: [[Float]] = [[], []]
        withNoGrad {
            let prefill = model.logits([ids[0], ids[1], ids[2], ids[8], ids[9], ids[10]], batch: 2, cache: cache,
                                       positions: .all)  // 3 tokens each
            for b in 0..<2 { stepped[b] += prefill.scalars[(b * 3 * 50)..<((b + 1) * 3 * 50)] }
            for t in 3..<8 {
                let step = model.logits([ids[t], ids[8 + t]], batch: 2, cache: cache)
                for b in 0..<2 { stepped[b] += step.scalars[(b * 50)..<((b + 1) * 50)] }
            }
        }
        #expect(cache.length == 8)
        for b in 0..<2 {
            let expected = Array(full.scalars[(b * 8 * 50)..<((b + 1) * 8 * 50)])
            #expect(maxAbsDifference(stepped[b], expected) < 1e-4)
        }
    }

    @Test func missingTensorAndWrongShapeAreReported() throws {
        let c = LlamaConfiguration(hiddenSize: 8, intermediateSize: 8, layerCount: 1, attentionHeads: 2,
                                   keyValueHeads: 1, vocabularySize: 4)
        #expect(throws: ModelLoadingError.missingTensor(name: "model.embed_tokens.weight", file: "weights")) {
            try LlamaModel(configuration: c, weights: [:])
        }
        #expect(throws: ModelLoadingError.shapeMismatch(name: "model.embed_tokens.weight", expected: [4, 8],
                                                        found: [4, 9])) {
            try LlamaModel(configuration: c, weights: ["model.embed_tokens.weight": Tensor.zeros([4, 9])])
        }
    }

    @Test func linearsAreNamedLikeHuggingFace() throws {
        let model = try Self.tinyModel()
        let names = model.linears.map(\.name)
        #expect(names.count == 2 * 7 + 1)
        #expect(names.first == "model.layers.0.self_attn.q_proj")
        #expect(names.contains("model.layers.1.mlp.down_proj"))
    }

    final class AddOne: LinearAdapter {
        func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor { baseOutput.adding(scalar: 1) }
    }

    @Test func adaptersAreConsultedByLinear() throws {
        let layer = Linear(name: "p", weight: Tensor([1, 2, 3, 4], shape: [2, 2]))
        let x = Tensor([1, 1], shape: [1, 2])
        #expect(layer(x).scalars == [3, 7])
        layer.adapters = [AddOne()]
        #expect(layer(x).scalars == [4, 8])
    }
}
