/// Translation between GGUF tensor names (`blk.3.attn_q.weight`) and the Hugging Face names used inside
/// LoRAKit (`model.layers.3.self_attn.q_proj.weight`), and the undoing of GGUF's rotary row permutation.
public enum LlamaGGUFNames {
    static let layerSuffixes: [(gguf: String, hf: String)] = [
        ("attn_norm.weight", "input_layernorm.weight"),
        ("attn_q.weight", "self_attn.q_proj.weight"),
        ("attn_k.weight", "self_attn.k_proj.weight"),
        ("attn_v.weight", "self_attn.v_proj.weight"),
        ("attn_output.weight", "self_attn.o_proj.weight"),
        ("ffn_norm.weight", "post_attention_layernorm.weight"),
        ("ffn_gate.weight", "mlp.gate_proj.weight"),
        ("ffn_up.weight", "mlp.up_proj.weight"),
        ("ffn_down.weight", "mlp.down_proj.weight"),
    ]
    static let globalNames: [(gguf: String, hf: String)] = [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("output.weight", "lm_head.weight"),
    ]

    /// The Hugging Face name of a GGUF tensor, or `nil` for tensors LoRAKit does not use.
    public static func huggingFaceName(for ggufName: String) -> String? {
        if let global = globalNames.first(where: { $0.gguf == ggufName }) { return global.hf }
        let parts = ggufName.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]) else { return nil }
        guard let suffix = layerSuffixes.first(where: { $0.gguf == parts[2] }) else { return nil }
        return "model.layers.\(layer).\(suffix.hf)"
    }

    /// The GGUF name of a Hugging Face tensor name, or `nil` when GGUF has no such tensor.
    public static func ggufName(for huggingFaceName: String) -> String? {
        if let global = globalNames.first(where: { $0.hf == huggingFaceName }) { return global.gguf }
        guard huggingFaceName.hasPrefix("model.layers.") else { return nil }
        let rest = huggingFaceName.dropFirst("model.layers.".count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let suffix = rest[rest.index(after: dot)...]
        guard let pair = layerSuffixes.first(where: { $0.hf == suffix }) else { return nil }
        return "blk.\(layer).\(pair.gguf)"
    }

    /// How many heads a projection's rows are permuted over in GGUF: query heads for `q_proj`, key/value heads for
    /// `k_proj`, none for other tensors.
    public static func permutedHeads(for huggingFaceName: String, configuration: LlamaConfiguration) -> Int? {
        if huggingFaceName.hasSuffix("self_attn.q_proj.weight") { return configuration.attentionHeads }
        if huggingFaceName.hasSuffix("self_attn.k_proj.weight") { return configuration.keyValueHeads }
        return nil
    }

    /// Undoes llama.cpp's rotary permutation of Q/K projection rows, in place.
    ///
    /// llama.cpp's converter stores, within each head of `headDim` rows, row `2i + j` = Hugging Face row
    /// `j · headDim/2 + i` (it interleaves the two rotate-half halves). This restores Hugging Face's order.
    /// - Parameters:
    ///   - weights: `[heads · headDim, columns]` row-major.
    ///   - heads: the number of heads the rows split into.
    public static func unpermuteRotaryRows(_ weights: UnsafeMutableBufferPointer<Float>, heads: Int, columns: Int) {
        permuteRows(weights, heads: heads, columns: columns, toGGUF: false)
    }

    /// Applies llama.cpp's rotary permutation (for writing GGUF files), in place. Inverse of
    /// ``unpermuteRotaryRows(_:heads:columns:)``.
    public static func permuteRotaryRows(_ weights: UnsafeMutableBufferPointer<Float>, heads: Int, columns: Int) {
        permuteRows(weights, heads: heads, columns: columns, toGGUF: true)
    }

    private static func permuteRows(_ weights: UnsafeMutableBufferPointer<Float>, heads: Int, columns: Int,
                                    toGGUF: Bool) {
        let rows = weights.count / columns
        let headDim = rows / heads
        let half = headDim / 2
        // invariant: callers pass a [heads·headDim, columns] buffer with an even headDim (validated config).
        precondition(rows * columns == weights.count && headDim * heads == rows && headDim % 2 == 0)
        let copy = Array(weights)
        copy.withUnsafeBufferPointer { source in
            for head in 0..<heads {
                let base = head * headDim
                for i in 0..<half {
                    for j in 0..<2 {
                        let ggufRow = base + 2 * i + j
                        let hfRow = base + j * half + i
                        let (from, to) = toGGUF ? (hfRow, ggufRow) : (ggufRow, hfRow)
                        UnsafeMutableRawPointer(weights.baseAddress! + to * columns)
                            .copyMemory(from: source.baseAddress! + from * columns, byteCount: columns * 4)
                    }
                }
            }
        }
    }
}
