import LoRAKitCore
import LoRAKitModels

/// The pair of low-rank factors every LoRA-family variant shares: `A [r, in]`, `B [out, r]`, with PEFT's
/// initialisations and the product `s · B (A x)`.
struct LowRankFactors {
    var a: Tensor
    var b: Tensor

    static let keyA = "lora_A.weight"
    static let keyB = "lora_B.weight"

    /// PEFT's initialisations (`init_lora_weights`).
    init(rank: Int, base: Linear, initialization: AdapterConfiguration.Initialization, seed: UInt64) throws {
        let (r, inF, outF) = (rank, base.inFeatures, base.outFeatures)
        switch initialization {
        case .standard:
            // nn.init.kaiming_uniform_(A, a=√5): bound = √(6 / ((1 + 5) · fan_in)) = 1/√fan_in; B = 0.
            a = Tensor.kaimingUniform([r, inF], seed: seed)
            b = Tensor.zeros([outF, r])
        case .gaussian:
            a = Tensor.randomNormal([r, inF], std: 1 / Float(r), seed: seed)
            b = Tensor.zeros([outF, r])
        case .random:
            a = Tensor.kaimingUniform([r, inF], seed: seed)
            b = Tensor.kaimingUniform([outF, r], seed: seed &+ 1)
        case .pissa, .olora:
            throw AdapterError.unsupported(field: "init_lora_weights", value: "\(initialization) (not in this build)")
        }
    }

    init(a: Tensor, b: Tensor) {
        self.a = a
        self.b = b
    }

    /// `scale · B (A x)`, `[..., out]`, with autograd through A and B when they require grad.
    func delta(_ x: Tensor, scale: Float) -> Tensor {
        linear(linear(x, weight: a), weight: b).scaled(by: scale)
    }

    /// `B A`, `[out, in]`.
    func product() -> Tensor { matmul(b, a) }

    var parameters: [String: Tensor] { [Self.keyA: a, Self.keyB: b] }

    func expectedShapes(rank: Int, base: Linear) -> [String: [Int]] {
        [Self.keyA: [rank, base.inFeatures], Self.keyB: [base.outFeatures, rank]]
    }
}
