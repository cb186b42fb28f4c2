import Testing
@testable import LoRAKitModels

@Suite struct LlamaGGUFNamesTests {
    @Test(arguments: [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"),
        ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight"),
        ("blk.3.ffn_norm.weight", "model.layers.3.post_attention_layernorm.weight"),
    ])
    func namesMapBothWays(gguf: String, hf: String) {
        #expect(LlamaGGUFNames.huggingFaceName(for: gguf) == hf)
        #expect(LlamaGGUFNames.ggufName(for: hf) == gguf)
    }

    @Test func unknownNamesMapToNil() {
        #expect(LlamaGGUFNames.huggingFaceName(for: "rope_freqs.weight") == nil)
        #expect(LlamaGGUFNames.huggingFaceName(for: "blk.x.attn_q.weight") == nil)
        #expect(LlamaGGUFNames.ggufName(for: "model.layers.1.self_attn.rotary_emb.inv_freq") == nil)
    }

    /// One head of 4 rows: GGUF order [r0, r2, r1, r3] of the Hugging Face rows (pairs interleaved).
    @Test func unpermuteRestoresRotateHalfOrder() {
        var gguf: [Float] = [0, 2, 1, 3].flatMap { [Float($0), Float($0) + 0.5] }
        gguf.withUnsafeMutableBufferPointer { LlamaGGUFNames.unpermuteRotaryRows($0, heads: 1, columns: 2) }
        #expect(gguf == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5])
    }

    @Test func permuteInvertsUnpermute() {
        let original = (0..<(3 * 8 * 5)).map { Float($0) }
        var weights = original
        weights.withUnsafeMutableBufferPointer {
            LlamaGGUFNames.permuteRotaryRows($0, heads: 3, columns: 5)
            LlamaGGUFNames.unpermuteRotaryRows($0, heads: 3, columns: 5)
        }
        #expect(weights == original)
        weights.withUnsafeMutableBufferPointer { LlamaGGUFNames.permuteRotaryRows($0, heads: 3, columns: 5) }
        #expect(weights != original)
    }
}
