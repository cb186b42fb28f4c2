import Testing
@testable import LoRAKitCore

/// Ops composed the way a Llama block with LoRA uses them, checked end to end.
@Suite struct CompositionTests {
    /// One pre-norm decoder block (RMSNorm → q/k/v with a LoRA on q → RoPE → causal GQA attention → o_proj →
    /// residual → RMSNorm → SwiGLU MLP → residual) then the chunked LM loss. Only the LoRA factors and the
    /// input are trainable. Tolerance: atol 3e-3, rtol 2e-2 (ε = 1e-2; many Float ops in sequence).
    @Test func llamaBlockWithLoRAGradients() {
        let (b, t, h, hq, hkv, d, mlp, vocab) = (1, 4, 16, 4, 2, 4, 24, 11)
        let w = (0..<8).map { randn([[hq * d, h], [hkv * d, h], [hkv * d, h], [h, hq * d], [mlp, h], [mlp, h], [h, mlp], [vocab, h]][$0], seed: UInt64(50 + $0), std: 0.3) }
        let norm = Tensor.filled([h], value: 1)
        let loraA = randn([2, h], seed: 60, std: 0.3), loraB = randn([hq * d, 2], seed: 61, std: 0.3)
        let x = randn([b, t, h], seed: 62)
        let positions: [Int32] = [0, 1, 2, 3]
        gradCheck([x, loraA, loraB], atol: 3e-3, rtol: 2e-2) { p in
            let (x, a, bb) = (p[0], p[1], p[2])
            let hn = rmsNorm(x, weight: norm, eps: 1e-5)
            let q = linear(hn, weight: w[0]) + linear(linear(hn, weight: a), weight: bb) * 2
            let k = linear(hn, weight: w[1]), v = linear(hn, weight: w[2])
            let qr = rope(q.reshaped([b, t, hq, d]), positions: positions, theta: 10000)
            let kr = rope(k.reshaped([b, t, hkv, d]), positions: positions, theta: 10000)
            let att = scaledDotProductAttention(query: qr, key: kr, value: v.reshaped([b, t, hkv, d]))
            let h1 = x + linear(att.reshaped([b, t, hq * d]), weight: w[3])
            let m = rmsNorm(h1, weight: norm, eps: 1e-5)
            let h2 = h1 + linear(swiglu(gate: linear(m, weight: w[4]), up: linear(m, weight: w[5])), weight: w[6])
            return linearCrossEntropy(hidden: h2.reshaped([b * t, h]), weight: w[7], targets: [3, -100, 10, 0],
                                      chunkSize: 4)
        }
    }

    @Test func replaceSliceWritesACacheWindow() {
        var cache = Tensor.zeros([2, 5, 1, 2])
        let new = Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 2, 1, 2])
        let before = cache
        cache.replaceSlice(axis: 1, start: 3, with: new)
        #expect(cache.sliced(axis: 1, 3..<5).scalars == new.scalars)
        #expect(cache.sliced(axis: 1, 0..<3).scalars.allSatisfy { $0 == 0 })
        #expect(before.scalars.allSatisfy { $0 == 0 })  // copy-on-write kept the old value intact
    }
}

/// ``linearWithLowRank(_:weight:bias:loraInput:a:b:scale:)`` against the chain it replaces — `linear(x, W) +
/// linear(linear(u, A) · s, B)` — in value and in every gradient, for fp32 and bf16 base weights (the same bf16 GEMM
/// runs in both, so they agree to fp32 rounding).
@Suite struct LinearWithLowRankTests {
    @Test(arguments: [(1, false), (6, true), (40, false), (40, true)])
    func matchesTheUnfusedChain(rows: Int, bf16: Bool) {
        let (inF, outF, r) = (96, 80, 8)
        let w = randn([outF, inF], seed: 1, std: 0.2)
        let weight: ProjectionWeight = bf16 ? .bfloat16(BF16Matrix(w)) : .float32(w)
        let x0 = randn([rows, inF], seed: 2), a0 = randn([r, inF], seed: 3, std: 0.3)
        let b0 = randn([outF, r], seed: 4, std: 0.3), seed = randn([rows, outF], seed: 5)
        func run(fused: Bool) -> (y: Tensor, dx: Tensor, da: Tensor, db: Tensor) {
            let (x, a, b) = (x0.requiringGrad(name: "x"), a0.requiringGrad(name: "a"), b0.requiringGrad(name: "b"))
            func base() -> Tensor {
                switch weight {
                case .float32(let w): return linear(x, weight: w)
                case .bfloat16(let m): return linear(x, weight: m)
                }
            }
            let y = fused ? linearWithLowRank(x, weight: weight, bias: nil, loraInput: x, a: a, b: b, scale: 2)
                : base() + linear(linear(x, weight: a).scaled(by: 2), weight: b)
            y.backward(seed: seed)
            return (y, x.grad!, a.grad!, b.grad!)
        }
        let (fused, chain) = (run(fused: true), run(fused: false))
        expectClose(fused.y, chain.y, atol: 1e-4)
        expectClose(fused.dx, chain.dx, atol: 1e-4)
        expectClose(fused.da, chain.da, atol: 1e-4)
        expectClose(fused.db, chain.db, atol: 1e-4)
    }

    /// Unrecorded decode rows on an fp32 weight take the fused kernel (`lk_lora_fused`): the same values as the chain.
    @Test(arguments: [1, 3, 8])
    func decodeRowsMatchTheChain(rows: Int) {
        let (inF, outF, r) = (96, 80, 20)
        let (w, bias) = (randn([outF, inF], seed: 11, std: 0.2), randn([outF], seed: 12))
        let (x, a, b) = (randn([rows, inF], seed: 13), randn([r, inF], seed: 14, std: 0.3), randn([outF, r], seed: 15))
        let (fused, chain) = withNoGrad {
            (linearWithLowRank(x, weight: .float32(w), bias: bias, loraInput: x, a: a, b: b, scale: 0.75),
             linear(x, weight: w, bias: bias) + linear(linear(x, weight: a).scaled(by: 0.75), weight: b))
        }
        expectClose(fused, chain, atol: 1e-4)
    }
}
