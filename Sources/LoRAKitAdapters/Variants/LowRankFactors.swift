import LoRAKitCore
import LoRAKitModels

/// The pair of low-rank factors every LoRA-family variant shares: `A [r, in]`, `B [out, r]`, with PEFT's
/// initialisations and the product `s · B (A x)`.
struct LowRankFactors {
    var a: Tensor
    var b: Tensor

    static let keyA = "lora_A.weight"
    static let keyB = "lora_B.weight"

    /// PEFT's initialisations (`init_lora_weights`). PiSSA and OLoRA replace `base.weight` by the residual
    /// `W − scaling · B A`, so the adapted layer reproduces the original output at init.
    init(rank: Int, base: Linear, initialization: AdapterConfiguration.Initialization, scaling: Float,
         seed: UInt64) throws {
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
        case .pissa(let iterations):
            (a, b) = try Self.pissa(rank: r, base: base, iterations: iterations, scaling: scaling, seed: seed)
            base.weight = base.weight - matmul(b, a).scaled(by: scaling)
        case .olora:
            (a, b) = try Self.olora(rank: r, base: base)
            base.weight = base.weight - matmul(b, a).scaled(by: scaling)
        }
    }

    private static func checkRank(_ r: Int, base: Linear, name: String) throws {
        guard r <= min(base.inFeatures, base.outFeatures) else {
            throw AdapterError.invalidConfiguration(
                field: "r", reason: "\(name) needs r <= min(in, out) = \(min(base.inFeatures, base.outFeatures)) "
                    + "for \(base.name) (got \(r)); lower r or use the default init")
        }
    }

    private static func decomposition<T>(_ base: Linear, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DecompositionError {
            throw AdapterError.invalidConfiguration(field: "init_lora_weights", reason: "\(base.name): \(error)")
        }
    }

    /// PEFT's `pissa_init`: `W [out, in] ≈ V S Uᵀ` (top r), `S ← S / scaling`, `A = diag(√S) Uᵀ` `[r, in]`,
    /// `B = V diag(√S)` `[out, r]`. `iterations` selects the randomized SVD (`pissa_niter_N`).
    static func pissa(rank r: Int, base: Linear, iterations: Int?, scaling: Float,
                      seed: UInt64) throws -> (a: Tensor, b: Tensor) {
        try checkRank(r, base: base, name: "PiSSA")
        let (u, s, vt) = try decomposition(base) {
            if let iterations { return try base.weight.randomizedSVD(rank: r, iterations: iterations, seed: seed) }
            return try base.weight.svd()
        }
        let (outF, inF) = (base.outFeatures, base.inFeatures)
        let k = s.count
        let (sv, uv, vtv) = (s.scalars, u.scalars, vt.scalars)
        var a = [Float](repeating: 0, count: r * inF), b = [Float](repeating: 0, count: outF * r)
        for j in 0..<r {
            let root = (Double(sv[j]) / Double(scaling)).squareRoot()
            for c in 0..<inF { a[j * inF + c] = Float(root * Double(vtv[j * inF + c])) }
            for o in 0..<outF { b[o * r + j] = Float(root * Double(uv[o * k + j])) }
        }
        return (Tensor(a, shape: [r, inF]), Tensor(b, shape: [outF, r]))
    }

    /// PEFT's `olora_init`: `W [out, in] = Q R` (reduced, in float32 in PEFT), `A = R[:r]` `[r, in]`,
    /// `B = Q[:, :r]` `[out, r]` (no division by the scaling).
    static func olora(rank r: Int, base: Linear) throws -> (a: Tensor, b: Tensor) {
        try checkRank(r, base: base, name: "OLoRA")
        let (q, rMatrix) = try decomposition(base) { try base.weight.qr() }
        let (outF, inF) = (base.outFeatures, base.inFeatures)
        let k = q.shape[1]
        let (qv, rv) = (q.scalars, rMatrix.scalars)
        var b = [Float](repeating: 0, count: outF * r)
        for o in 0..<outF { for j in 0..<r { b[o * r + j] = qv[o * k + j] } }
        return (Tensor(Array(rv[0..<(r * inF)]), shape: [r, inF]), Tensor(b, shape: [outF, r]))
    }

    init(a: Tensor, b: Tensor) {
        self.a = a
        self.b = b
    }

    /// `scale · B (A x)`, `[..., out]`, with autograd through A and B when they require grad.
    func delta(_ x: Tensor, scale: Float) -> Tensor {
        // Scales the rank-r intermediate rather than the [rows, out] result: the same product (PEFT scales after B;
        // the two differ by rounding only) for r/out of the elementwise work, forward and backward.
        linear(linear(x, weight: a).scaled(by: scale), weight: b)
    }

    /// `B A`, `[out, in]`.
    func product() -> Tensor { matmul(b, a) }

    var parameters: [String: Tensor] { [Self.keyA: a, Self.keyB: b] }

    func expectedShapes(rank: Int, base: Linear) -> [String: [Int]] {
        [Self.keyA: [rank, base.inFeatures], Self.keyB: [base.outFeatures, rank]]
    }
}
