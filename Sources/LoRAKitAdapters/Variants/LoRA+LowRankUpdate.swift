import LoRAKitCore

/// An adapter whose full output is `y + s · (x · Aᵀ) · Bᵀ` — a plain low-rank update — exposed so that kernels
/// serving many adapters at once (segmented, Punica's SGMV) can run it on row segments without building tensors.
public protocol LowRankUpdate: AnyObject {
    /// `a`: `[rank, inFeatures]`, `b`: `[outFeatures, rank]`, `scale`: the scaling times the adapter's weight.
    var lowRankUpdate: (a: Tensor, b: Tensor, scale: Float) { get }
}

extension LoRA: LowRankUpdate {
    /// LoRA and rsLoRA (their scalings differ only in ``AdapterTarget/scaling``); inference only (no dropout).
    public var lowRankUpdate: (a: Tensor, b: Tensor, scale: Float) {
        (factors.a, factors.b, Float(target.scaling) * weight)
    }
}
