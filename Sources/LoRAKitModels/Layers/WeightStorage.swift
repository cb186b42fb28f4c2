import LoRAKitCore

/// The element type frozen projection weights are kept in (`--dtype`).
public enum WeightDType: String, Sendable, Codable, CaseIterable {
    /// `Float`: exact, the default; what training of full weights and parity tests use.
    case float32
    /// bfloat16, rounded to nearest even from `Float` at load: half the memory, decode streams twice the weights
    /// per second and prefill runs the AVX512_BF16 GEMM where the CPU has it. Products accumulate in `Float`.
    case bfloat16

    /// The short names the CLI accepts (`fp32`, `bf16`, and the case names).
    public init?(name: String) {
        switch name.lowercased() {
        case "fp32", "f32", "float32", "float": self = .float32
        case "bf16", "bfloat16": self = .bfloat16
        default: return nil
        }
    }
}

/// How a ``Linear`` stores its `[outFeatures, inFeatures]` weight: LoRAKitCore's ``ProjectionWeight`` — `Float` (may
/// require grad, when full weights train) or frozen bfloat16 (gradients flow to the input only); each case has its
/// own kernels. Quantized formats (Q8_0, …) become further cases with their own `linear` kernel.
public typealias WeightStorage = ProjectionWeight

extension ProjectionWeight {
    public var dtype: WeightDType {
        switch self {
        case .float32: return .float32
        case .bfloat16: return .bfloat16
        }
    }

    /// Bytes of weight data.
    public var byteCount: Int {
        switch self {
        case .float32(let t): return t.count * 4
        case .bfloat16(let m): return m.byteCount
        }
    }

    /// The weight as `Float` (for bf16 a new, exactly widened tensor).
    public var floats: Tensor {
        switch self {
        case .float32(let t): return t
        case .bfloat16(let m): return m.floats()
        }
    }

    /// `value` stored in `dtype` (rounded to nearest even for bf16).
    public init(_ value: Tensor, dtype: WeightDType) {
        switch dtype {
        case .float32: self = .float32(value)
        case .bfloat16: self = .bfloat16(BF16Matrix(value))
        }
    }

    /// `x · Wᵀ + b` with this storage's kernel.
    /// - Parameters:
    ///   - x: `[..., inFeatures]`.
    ///   - bias: `[outFeatures]` or `nil`.
    /// - Returns: `[..., outFeatures]`.
    public func project(_ x: Tensor, bias: Tensor?) -> Tensor {
        switch self {
        case .float32(let t): return linear(x, weight: t, bias: bias)
        case .bfloat16(let m): return linear(x, weight: m, bias: bias)
        }
    }
}
