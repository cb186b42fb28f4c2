import Foundation
import LoRAKitCore

/// Which positions' logits a forward pass computes. The vocabulary head is the widest matrix of a small model
/// (SmolLM2: 49152 × 576): prefill needs only the last position.
public enum LogitPositions: Sendable, Equatable {
    /// Only the last position of each sequence: `[batch, 1, vocab]`.
    case last
    /// Every position: `[batch, sequence, vocab]`.
    case all
}

/// Multi-head self-attention with grouped-query heads and rotary positions (Llama).
public final class LlamaAttention: @unchecked Sendable {
    public let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    let heads: Int, kvHeads: Int, headDim: Int, ropeTheta: Float

    init(qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear, configuration c: LlamaConfiguration) {
        (self.qProj, self.kProj, self.vProj, self.oProj) = (qProj, kProj, vProj, oProj)
        (heads, kvHeads, headDim, ropeTheta) = (c.attentionHeads, c.keyValueHeads, c.headDim, c.ropeTheta)
    }

    /// - Parameters:
    ///   - x: `[batch, sequence, hidden]`.
    ///   - positions: `sequence` absolute positions.
    ///   - cache: when given, keys/values are appended to layer `layer` of it and attention reads the whole cache.
    /// - Returns: `[batch, sequence, hidden]`.
    func callAsFunction(_ x: Tensor, positions: [Int32], cache: KVCache?, layer: Int) -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let q = rope(qProj(x).reshaped([b, t, heads, headDim]), positions: positions, theta: ropeTheta)
        let k = rope(kProj(x).reshaped([b, t, kvHeads, headDim]), positions: positions, theta: ropeTheta)
        let v = vProj(x).reshaped([b, t, kvHeads, headDim])
        let attended: Tensor
        if let cache {
            let offset = cache.length
            cache.write(layer: layer, keys: k, values: v, at: offset)
            attended = scaledDotProductAttention(query: q, key: cache.keys[layer], value: cache.values[layer],
                                                 keyLength: offset + t, causal: true, queryOffset: offset)
        } else {
            attended = scaledDotProductAttention(query: q, key: k, value: v, causal: true)
        }
        return oProj(attended.reshaped([b, t, heads * headDim]))
    }
}

/// The gated MLP: `down(silu(gate(x)) · up(x))`.
public final class LlamaMLP: @unchecked Sendable {
    public let gateProj: Linear, upProj: Linear, downProj: Linear

    init(gateProj: Linear, upProj: Linear, downProj: Linear) {
        (self.gateProj, self.upProj, self.downProj) = (gateProj, upProj, downProj)
    }

    /// `[batch, sequence, hidden]` → same shape.
    func callAsFunction(_ x: Tensor) -> Tensor { downProj(swiglu(gate: gateProj(x), up: upProj(x))) }
}

/// One pre-norm decoder block: `h = x + attn(norm(x))`, `out = h + mlp(norm(h))`.
public final class LlamaDecoderLayer: @unchecked Sendable {
    public let inputNorm: RMSNorm, attention: LlamaAttention, postAttentionNorm: RMSNorm, mlp: LlamaMLP

    init(inputNorm: RMSNorm, attention: LlamaAttention, postAttentionNorm: RMSNorm, mlp: LlamaMLP) {
        (self.inputNorm, self.attention, self.postAttentionNorm, self.mlp) =
            (inputNorm, attention, postAttentionNorm, mlp)
    }

    func callAsFunction(_ x: Tensor, positions: [Int32], cache: KVCache?, layer: Int) -> Tensor {
        let h = x + attention(inputNorm(x), positions: positions, cache: cache, layer: layer)
        return h + mlp(postAttentionNorm(h))
    }
}

/// A Llama-architecture causal language model (Llama 2/3, SmolLM, Mistral without sliding window): activations in
/// `Float`, projection weights in `Float` or bf16 (``WeightDType``).
///
/// Every projection is a ``Linear`` named as in Hugging Face (`model.layers.3.self_attn.q_proj`), so adapters
/// attach by name. The forward pass uses Core's differentiable ops: it records autograd history when adapter
/// parameters require grad (training) and nothing under `withNoGrad` (inference).
///
/// ```swift
/// let model = try LlamaModel(gguf: url)
/// let cache = model.makeCache(batch: 1, capacity: 256)
/// let logits = model.logits(ids, batch: 1, cache: cache)   // [1, 1, vocab]
/// ```
public final class LlamaModel: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    public let embedTokens: Embedding
    public let layers: [LlamaDecoderLayer]
    public let norm: RMSNorm
    /// The vocabulary head; with tied embeddings its weight shares the embedding's storage.
    public let lmHead: Linear

    /// Builds the model from tensors named as in Hugging Face checkpoints.
    /// - Parameters:
    ///   - weights: `model.embed_tokens.weight`, `model.layers.N.…`, `model.norm.weight` and `lm_head.weight`
    ///     (unless `tieWordEmbeddings`).
    ///   - dtype: how the projections (every ``Linear``, including the head) store their weights.
    /// - Throws: ``ModelLoadingError`` for an invalid configuration, a missing tensor or a wrong shape.
    public convenience init(configuration c: LlamaConfiguration, weights: [String: Tensor], source: String = "weights",
                            dtype: WeightDType = .float32) throws {
        try self.init(configuration: c, source: source, dtype: dtype) { weights[$0] }
    }

    /// Builds the model from a tensor source read one tensor at a time, so that a loader converting to bf16 never
    /// holds every `Float` weight at once.
    /// - Parameter tensor: the tensor with a Hugging Face name, or `nil` when the checkpoint has none; called at most
    ///   once per name.
    public init(configuration c: LlamaConfiguration, source: String, dtype: WeightDType,
                tensor: (String) throws -> Tensor?) throws {
        try c.validate()
        func take(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let t = try tensor(name) else { throw ModelLoadingError.missingTensor(name: name, file: source) }
            guard t.shape == shape else {
                throw ModelLoadingError.shapeMismatch(name: name, expected: shape, found: t.shape)
            }
            return t
        }
        func bias(_ name: String, _ n: Int) throws -> Tensor? {
            guard let t = try tensor(name + ".bias") else { return nil }
            guard t.shape == [n] else { throw ModelLoadingError.shapeMismatch(name: name + ".bias", expected: [n], found: t.shape) }
            return t
        }
        func proj(_ name: String, _ out: Int, _ inF: Int) throws -> Linear {
            Linear(name: name, weight: try take(name + ".weight", [out, inF]), bias: try bias(name, out), dtype: dtype)
        }
        let (h, d) = (c.hiddenSize, c.headDim)
        configuration = c
        embedTokens = Embedding(name: "model.embed_tokens",
                                weight: try take("model.embed_tokens.weight", [c.vocabularySize, h]))
        layers = try (0..<c.layerCount).map { i in
            let p = "model.layers.\(i)."
            let attention = LlamaAttention(qProj: try proj(p + "self_attn.q_proj", c.attentionHeads * d, h),
                                           kProj: try proj(p + "self_attn.k_proj", c.keyValueHeads * d, h),
                                           vProj: try proj(p + "self_attn.v_proj", c.keyValueHeads * d, h),
                                           oProj: try proj(p + "self_attn.o_proj", h, c.attentionHeads * d),
                                           configuration: c)
            let mlp = LlamaMLP(gateProj: try proj(p + "mlp.gate_proj", c.intermediateSize, h),
                               upProj: try proj(p + "mlp.up_proj", c.intermediateSize, h),
                               downProj: try proj(p + "mlp.down_proj", h, c.intermediateSize))
            return LlamaDecoderLayer(
                inputNorm: RMSNorm(name: p + "input_layernorm", weight: try take(p + "input_layernorm.weight", [h]),
                                   epsilon: c.rmsNormEpsilon),
                attention: attention,
                postAttentionNorm: RMSNorm(name: p + "post_attention_layernorm",
                                           weight: try take(p + "post_attention_layernorm.weight", [h]),
                                           epsilon: c.rmsNormEpsilon),
                mlp: mlp)
        }
        norm = RMSNorm(name: "model.norm", weight: try take("model.norm.weight", [h]), epsilon: c.rmsNormEpsilon)
        if c.tieWordEmbeddings {
            lmHead = Linear(name: "lm_head", weight: embedTokens.weight, dtype: dtype)
        } else {
            lmHead = Linear(name: "lm_head", weight: try take("lm_head.weight", [c.vocabularySize, h]), dtype: dtype)
        }
    }

    /// Every projection of the model by Hugging Face module name (`model.layers.0.self_attn.q_proj`, …,
    /// `lm_head`), the slots adapters attach to.
    public var linears: [Linear] {
        layers.flatMap { l in
            [l.attention.qProj, l.attention.kProj, l.attention.vProj, l.attention.oProj,
             l.mlp.gateProj, l.mlp.upProj, l.mlp.downProj]
        } + [lmHead]
    }

    /// An empty key/value cache for `batch` sequences of up to `capacity` tokens (it grows if needed).
    public func makeCache(batch: Int = 1, capacity: Int) -> KVCache {
        KVCache(layers: configuration.layerCount, batch: batch, capacity: capacity,
                keyValueHeads: configuration.keyValueHeads, headDim: configuration.headDim)
    }

    /// The final-norm hidden states (the input of the vocabulary head).
    /// - Parameters:
    ///   - ids: `batch · sequence` token ids, row-major; each must be in `0..<vocab`.
    ///   - batch: the number of sequences (all of the same length).
    ///   - cache: when given, the tokens continue the cached ones and the cache advances by `sequence`.
    ///   - checkpointLayers: training only: keep one activation per layer and recompute the rest during backward
    ///     (gradient checkpointing; about a third more compute for much less memory).
    /// - Returns: `[batch, sequence, hidden]`.
    public func hiddenStates(_ ids: [Int32], batch: Int, cache: KVCache? = nil,
                             checkpointLayers: Bool = false) -> Tensor {
        precondition(batch > 0 && ids.count % batch == 0, "\(ids.count) ids do not split into \(batch) rows")
        let t = ids.count / batch
        let start = cache?.length ?? 0
        if let cache { cache.reserve(start + t) }
        let positions = (0..<t).map { Int32(start + $0) }
        var x = embedTokens(ids, shape: [batch, t])
        for (i, layer) in layers.enumerated() {
            if checkpointLayers && cache == nil {
                x = checkpointed(x) { layer($0, positions: positions, cache: nil, layer: i) }
            } else {
                x = layer(x, positions: positions, cache: cache, layer: i)
            }
        }
        cache?.length = start + t
        return norm(x)
    }

    /// Logits for the positions asked.
    /// - Parameters:
    ///   - ids: `batch · sequence` token ids, row-major.
    ///   - batch: number of sequences.
    ///   - cache: continue (and extend) this cache.
    ///   - positions: ``LogitPositions/last`` (default) or ``LogitPositions/all``.
    /// - Returns: `[batch, 1, vocab]` for `.last`, `[batch, sequence, vocab]` for `.all`.
    public func logits(_ ids: [Int32], batch: Int = 1, cache: KVCache? = nil,
                       positions: LogitPositions = .last) -> Tensor {
        let hidden = hiddenStates(ids, batch: batch, cache: cache)
        let t = hidden.shape[1]
        switch positions {
        case .all: return lmHead(hidden)
        case .last: return lmHead(t == 1 ? hidden : hidden.sliced(axis: 1, (t - 1)..<t))
        }
    }
}
