import LoRAKitCore

/// Root-mean-square normalisation with a learned scale (Llama): `x / √(mean(x²) + eps) · weight`.
public final class RMSNorm: @unchecked Sendable {
    public let name: String
    /// `[hidden]`.
    public var weight: Tensor
    public let epsilon: Float

    public init(name: String, weight: Tensor, epsilon: Float) {
        self.name = name
        self.weight = weight
        self.epsilon = epsilon
    }

    /// - Parameter x: `[..., hidden]`. - Returns: the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor { rmsNorm(x, weight: weight, eps: epsilon) }
}
