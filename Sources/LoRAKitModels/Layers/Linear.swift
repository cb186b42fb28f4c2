import LoRAKitCore

/// The one hook through which an adapter changes a projection's output (llama.cpp's `build_lora_mm`).
///
/// Declared here and implemented by every adapter variant in LoRAKitAdapters, so that models never mention
/// variants and the dependency points one way.
public protocol LinearAdapter: AnyObject, Sendable {
    /// The full output given the base output.
    /// - Parameters:
    ///   - x: the projection's input, `[..., inFeatures]`.
    ///   - baseOutput: `x · Wᵀ (+ b)`, `[..., outFeatures]` (after any earlier adapter).
    ///   - base: the projection being adapted (its weight, bias and name).
    /// - Returns: `[..., outFeatures]`.
    func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor
}

/// A projection `y = x · Wᵀ + b` (PyTorch's `nn.Linear`), the single place where adapters are consulted.
///
/// A class so that attaching an adapter to `model.layers[3].attention.qProj` changes the model in place.
public final class Linear: @unchecked Sendable {
    /// The Hugging Face module name, e.g. `model.layers.3.self_attn.q_proj` (PEFT keys map 1:1).
    public let name: String
    /// `[outFeatures, inFeatures]`.
    public var weight: Tensor
    /// `[outFeatures]` or `nil`.
    public var bias: Tensor?
    /// Adapters applied in order after the base product; empty for the plain base model.
    public var adapters: [any LinearAdapter] = []

    /// - Parameters:
    ///   - name: Hugging Face module name (without `.weight`).
    ///   - weight: `[outFeatures, inFeatures]`.
    ///   - bias: `[outFeatures]`.
    public init(name: String, weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")  // invariant
        self.name = name
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// `x · Wᵀ + b`, then every attached adapter. One-row inputs run as GEMV (weight streaming).
    /// - Parameter x: `[..., inFeatures]`.
    /// - Returns: `[..., outFeatures]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = linear(x, weight: weight, bias: bias)
        for adapter in adapters { y = adapter.forward(x, baseOutput: y, base: self) }
        return y
    }
}
