import LoRAKitCore

/// Token embedding lookup (`nn.Embedding`).
public final class Embedding: @unchecked Sendable {
    /// Hugging Face module name, e.g. `model.embed_tokens`.
    public let name: String
    /// `[vocab, hidden]`.
    public var weight: Tensor

    public init(name: String, weight: Tensor) {
        precondition(weight.rank == 2, "Embedding weight must be [vocab, hidden], got \(weight.shape)")  // invariant
        self.name = name
        self.weight = weight
    }

    public var vocabularySize: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// Rows of ``weight`` for `ids`.
    /// - Parameters:
    ///   - ids: `batch · sequence` ids, each in `0..<vocab` (callers check, see ``LlamaModel``).
    ///   - shape: leading shape, e.g. `[batch, sequence]`.
    /// - Returns: `shape + [hidden]`.
    public func callAsFunction(_ ids: [Int32], shape: [Int]) -> Tensor {
        embedding(weight, ids: ids, shape: shape)
    }
}
