import Foundation

/// The HTTP side's settings (`lorakit serve` flags).
public struct ServerOptions: Sendable, Equatable {
    /// The name clients use for the base model in `model` (default: the `--model` argument's name).
    public var modelName: String
    /// When set, every `/v1/*` request needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest accepted request body, in bytes.
    public var maxBodyBytes: Int
    /// Largest `max_tokens` a request may ask for; also the chat default's cap.
    public var maxTokens: Int
    /// How long a request waits for an adapter slot when all `--max-loras` are busy before a 429.
    public var adapterWaitSeconds: Double

    public init(modelName: String, apiKey: String? = nil, maxBodyBytes: Int = 1 << 20, maxTokens: Int = 2048,
                adapterWaitSeconds: Double = 30) {
        (self.modelName, self.apiKey, self.maxBodyBytes) = (modelName, apiKey, maxBodyBytes)
        (self.maxTokens, self.adapterWaitSeconds) = (maxTokens, adapterWaitSeconds)
    }
}
