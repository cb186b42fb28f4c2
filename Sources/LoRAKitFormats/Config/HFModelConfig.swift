import Foundation

/// The common fields of a Hugging Face `config.json` (Llama, BERT, ViT, …). Unknown fields are ignored.
///
/// Required: `model_type`, `hidden_size`, `num_hidden_layers`, `num_attention_heads`; everything else is optional
/// and the computed properties supply the usual defaults.
/// ```swift
/// let config = try HFModelConfig.load(from: modelDirectory.appendingPathComponent("config.json"))
/// config.keyValueHeads   // num_key_value_heads ?? num_attention_heads
/// config.eosTokenIDs     // [2] (eos_token_id may be an int or a list)
/// ```
public struct HFModelConfig: Codable, Sendable, Equatable {
    public var architectures: [String]?
    public var modelType: String
    public var hiddenSize: Int
    public var intermediateSize: Int?
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int?
    public var numHiddenLayers: Int
    public var headDim: Int?
    public var rmsNormEps: Double?
    public var layerNormEps: Double?
    public var ropeTheta: Double?
    public var vocabSize: Int?
    public var maxPositionEmbeddings: Int?
    public var tieWordEmbeddings: Bool?
    public var bosTokenID: Int?
    /// `eos_token_id`, normalised to a list (a single id becomes `[id]`).
    public var eosTokenIDs: [Int]?
    public var hiddenAct: String?
    public var torchDtype: String?
    public var typeVocabSize: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case architectures
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case numHiddenLayers = "num_hidden_layers"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case layerNormEps = "layer_norm_eps"
        case ropeTheta = "rope_theta"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenIDs = "eos_token_id"
        case hiddenAct = "hidden_act"
        case torchDtype = "torch_dtype"
        case typeVocabSize = "type_vocab_size"
    }

    /// Key-value heads (grouped-query attention); defaults to the attention head count.
    public var keyValueHeads: Int { numKeyValueHeads ?? numAttentionHeads }
    /// Per-head dimension; defaults to `hidden_size / num_attention_heads`.
    public var resolvedHeadDim: Int { headDim ?? hiddenSize / max(numAttentionHeads, 1) }
    /// Whether the output head shares the embedding matrix (transformers' default: true).
    public var tiesWordEmbeddings: Bool { tieWordEmbeddings ?? true }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        modelType = try c.decode(String.self, forKey: .modelType)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps)
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings)
        bosTokenID = try c.decodeIfPresent(Int.self, forKey: .bosTokenID)
        if let single = try? c.decodeIfPresent(Int.self, forKey: .eosTokenIDs) {
            eosTokenIDs = [single]
        } else {
            eosTokenIDs = try c.decodeIfPresent([Int].self, forKey: .eosTokenIDs)
        }
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype)
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize)
        for (name, value) in [("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                              ("num_attention_heads", numAttentionHeads)] where value <= 0 {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(name) must be positive, got \(value)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(architectures, forKey: .architectures)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encodeIfPresent(intermediateSize, forKey: .intermediateSize)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encodeIfPresent(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encodeIfPresent(headDim, forKey: .headDim)
        try c.encodeIfPresent(rmsNormEps, forKey: .rmsNormEps)
        try c.encodeIfPresent(layerNormEps, forKey: .layerNormEps)
        try c.encodeIfPresent(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(vocabSize, forKey: .vocabSize)
        try c.encodeIfPresent(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encodeIfPresent(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenID, forKey: .bosTokenID)
        if let eos = eosTokenIDs {
            if eos.count == 1 { try c.encode(eos[0], forKey: .eosTokenIDs) } else { try c.encode(eos, forKey: .eosTokenIDs) }
        }
        try c.encodeIfPresent(hiddenAct, forKey: .hiddenAct)
        try c.encodeIfPresent(torchDtype, forKey: .torchDtype)
        try c.encodeIfPresent(typeVocabSize, forKey: .typeVocabSize)
    }

    /// Parses `config.json` bytes; `path` names the file in errors.
    /// - Throws: ``FormatError/missingField(path:field:)`` or ``FormatError/invalidConfig(path:reason:)``.
    public static func decode(_ data: Data, path: String = "config.json") throws -> HFModelConfig {
        do {
            return try JSONDecoder().decode(HFModelConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw FormatError.missingField(path: path, field: key.stringValue)
        } catch let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.last?.stringValue ?? "?"
            throw FormatError.missingField(path: path, field: "\(field) (null)")
        } catch {
            throw FormatError.invalidConfig(path: path, reason: SafeTensorsFile.summarize(error))
        }
    }

    /// Reads and parses a `config.json` file.
    /// - Throws: ``FormatError`` naming the file.
    public static func load(from url: URL) throws -> HFModelConfig {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FormatError.cannotOpen(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }
}
