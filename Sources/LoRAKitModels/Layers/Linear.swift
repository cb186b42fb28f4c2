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

    /// The whole output, base product included, when this adapter can compute it in one pass over the weight (the
    /// serving router's fused decode path); `nil` to be given the base output through ``forward(_:baseOutput:base:)``.
    /// Consulted only when it is the projection's one adapter. The default returns `nil`.
    func fusedForward(_ x: Tensor, base: Linear) -> Tensor?
}

extension LinearAdapter {
    public func fusedForward(_ x: Tensor, base: Linear) -> Tensor? { nil }
}

/// A projection `y = x · Wᵀ + b` (PyTorch's `nn.Linear`), the single place where adapters are consulted.
///
/// A class so that attaching an adapter to `model.layers[3].attention.qProj` changes the model in place.
public final class Linear: @unchecked Sendable {
    /// The Hugging Face module name, e.g. `model.layers.3.self_attn.q_proj` (PEFT keys map 1:1).
    public let name: String
    /// The weight as stored, `[outFeatures, inFeatures]`: `Float` or bf16 (see ``WeightStorage``).
    public var storage: WeightStorage
    /// The weight as `Float`, `[outFeatures, inFeatures]`. For a bf16 ``storage`` reading it widens a new copy
    /// (cost: one pass over the weight) and setting it rounds the new value to bf16 (the storage keeps its dtype).
    public var weight: Tensor {
        get { storage.floats }
        set { storage = WeightStorage(newValue, dtype: storage.dtype) }
    }
    /// `[outFeatures]` or `nil`.
    public var bias: Tensor?
    /// Adapters applied in order after the base product; empty for the plain base model.
    public var adapters: [any LinearAdapter] = []

    /// - Parameters:
    ///   - name: Hugging Face module name (without `.weight`).
    ///   - weight: `[outFeatures, inFeatures]`.
    ///   - bias: `[outFeatures]`.
    ///   - dtype: how to store the weight (bf16 rounds it to nearest even).
    public init(name: String, weight: Tensor, bias: Tensor? = nil, dtype: WeightDType = .float32) {
        precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")  // invariant
        self.name = name
        self.storage = WeightStorage(weight, dtype: dtype)
        self.bias = bias
    }

    /// The weight for ops that run its products themselves (``LoRAKitCore/linearWithLowRank(_:weight:bias:loraInput:a:b:scale:)``),
    /// or `nil` while it trains.
    public var frozenWeight: ProjectionWeight? {
        if case .float32(let w) = storage, w.requiresGrad { return nil }
        return storage
    }

    public var inFeatures: Int { storage.shape[1] }
    public var outFeatures: Int { storage.shape[0] }

    /// The base product `x · Wᵀ + b` without adapters, on the storage's kernel (bf16 weights: see
    /// ``LoRAKitCore/linear(_:weight:bias:)-(_,BF16Matrix,_)``).
    /// - Parameter x: `[..., inFeatures]`.
    /// - Returns: `[..., outFeatures]`.
    public func baseOutput(_ x: Tensor) -> Tensor { storage.project(x, bias: bias) }

    /// `x · Wᵀ + b`, then every attached adapter. Few-row inputs (decode) stream the weights.
    /// - Parameter x: `[..., inFeatures]`.
    /// - Returns: `[..., outFeatures]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if adapters.count == 1, let y = adapters[0].fusedForward(x, base: self) { return y }
        var y = baseOutput(x)
        for adapter in adapters { y = adapter.forward(x, baseOutput: y, base: self) }
        return y
    }
}
