import Foundation

/// The hyper-parameters of a Llama-architecture decoder (Llama 2/3, SmolLM, Mistral without sliding window).
///
/// Dimension legend used in doc comments across the model: `batch, sequence, hidden, heads, kvHeads,
/// headDim, intermediate, vocab`.
public struct LlamaConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var attentionHeads: Int
    public var keyValueHeads: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool

    public init(hiddenSize: Int, intermediateSize: Int, layerCount: Int, attentionHeads: Int, keyValueHeads: Int,
                headDim: Int? = nil, vocabularySize: Int, rmsNormEpsilon: Float = 1e-5, ropeTheta: Float = 10000,
                maxPositionEmbeddings: Int = 2048, tieWordEmbeddings: Bool = false) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.attentionHeads = attentionHeads
        self.keyValueHeads = keyValueHeads
        self.headDim = headDim ?? (attentionHeads > 0 ? hiddenSize / attentionHeads : 0)
        self.vocabularySize = vocabularySize
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
    }

    /// Heads of queries that share one key/value head (grouped-query attention).
    public var queriesPerKeyValue: Int { attentionHeads / keyValueHeads }

    /// Checks that the numbers describe a model that can exist.
    /// - Throws: ``ModelLoadingError/invalidConfiguration(_:)`` naming the field.
    public func validate() throws {
        func fail(_ text: String) -> ModelLoadingError { .invalidConfiguration(text) }
        for (name, value) in [("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                              ("num_hidden_layers", layerCount), ("num_attention_heads", attentionHeads),
                              ("num_key_value_heads", keyValueHeads), ("head_dim", headDim),
                              ("vocab_size", vocabularySize)] where value <= 0 || value > 1 << 24 {
            throw fail("\(name) = \(value) is out of range")
        }
        guard attentionHeads % keyValueHeads == 0 else {
            throw fail("num_attention_heads (\(attentionHeads)) is not a multiple of num_key_value_heads (\(keyValueHeads))")
        }
        guard headDim % 2 == 0 else { throw fail("head_dim (\(headDim)) must be even for rotary embeddings") }
        guard rmsNormEpsilon.isFinite, rmsNormEpsilon > 0 else { throw fail("rms_norm_eps must be > 0") }
        guard ropeTheta.isFinite, ropeTheta > 0 else { throw fail("rope_theta must be > 0") }
    }
}

/// Why a model could not be loaded.
public enum ModelLoadingError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case unsupportedArchitecture(String)
    case missingTensor(name: String, file: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text):
            return "invalid model configuration: \(text)"
        case .unsupportedArchitecture(let name):
            return "unsupported architecture '\(name)' (supported: llama); use a Llama-family model"
        case .missingTensor(let name, let file):
            return "tensor '\(name)' is missing from \(file) (hint: is the file complete and a Llama model?)"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found), expected \(expected) from the model configuration"
        case .unreadable(let path, let reason):
            return "cannot read model at \(path): \(reason)"
        }
    }
}
