import LoRAKitCore
import LoRAKitModels

/// LoRA (Hu et al., 2021): `y = W x + s · B A dropout(x)` with `s = alpha / r`, or `alpha / √r` with rsLoRA
/// (Kalajdzievski, 2023). `A` is `[r, in]`, `B` is `[out, r]`; only A and B train.
///
/// ### See Also
/// - [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685)
/// - [A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA](https://arxiv.org/abs/2312.03732)
public final class LoRA: AdapterVariant, @unchecked Sendable {
    public static let kind = AdapterKind.lora
    public let target: AdapterTarget
    public var weight: Float = 1
    /// Dropout probability on the adapter's input during training (PEFT's `lora_dropout`).
    public let dropout: Float
    /// Seed of the next dropout mask; the trainer advances it every step.
    public var dropoutSeed: UInt64 = 0
    var factors: LowRankFactors
    private let shapes: [String: [Int]]

    public init(target: AdapterTarget, base: Linear, configuration: AdapterConfiguration, seed: UInt64) throws {
        self.target = target
        self.dropout = Float(configuration.dropout)
        factors = try LowRankFactors(rank: target.rank, base: base, initialization: configuration.initialization,
                                     scaling: Float(target.scaling), seed: seed)
        shapes = factors.expectedShapes(rank: target.rank, base: base)
    }

    public var parameters: [String: Tensor] {
        get { factors.parameters }
        set {
            // invariant: callers validate with AdapterParameters.check before assigning (PEFTAdapterFile does).
            precondition((try? AdapterParameters.check(newValue, expected: shapes, module: target.module)) != nil,
                         "LoRA parameters for \(target.module) have the wrong keys or shapes")
            factors = LowRankFactors(a: newValue[LowRankFactors.keyA]!, b: newValue[LowRankFactors.keyB]!)
        }
    }

    public func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor {
        guard weight != 0 else { return baseOutput }
        return baseOutput + factors.delta(input(x), scale: Float(target.scaling) * weight)
    }

    /// The base product and this LoRA as one node (``linearWithLowRank(_:weight:bias:loraInput:a:b:scale:)``) when
    /// the base weight and bias are frozen: LoRA training's usual case, and generation with an unmerged adapter.
    public func fusedForward(_ x: Tensor, base: Linear) -> Tensor? {
        guard weight != 0, let frozen = base.frozenWeight, base.bias?.requiresGrad != true else { return nil }
        return linearWithLowRank(x, weight: frozen, bias: base.bias, loraInput: input(x), a: factors.a, b: factors.b,
                                 scale: Float(target.scaling) * weight)
    }

    /// What A sees: `x`, after dropout while training.
    private func input(_ x: Tensor) -> Tensor {
        dropout > 0 && GradMode.isEnabled ? LoRAKitCore.dropout(x, probability: dropout, seed: dropoutSeed) : x
    }

    public func merged(into baseWeight: Tensor) -> Tensor {
        baseWeight + factors.product().scaled(by: Float(target.scaling) * weight)
    }

    public func unmerged(from mergedWeight: Tensor) -> Tensor {
        mergedWeight - factors.product().scaled(by: Float(target.scaling) * weight)
    }
}
