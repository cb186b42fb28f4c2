import Testing
@testable import LoRAKitCore

/// Finite-difference gradient checks, one per op (tolerances: `gradCheck` defaults atol 2e-3, rtol 1e-2 with
/// ε = 1e-2 unless a test says otherwise).
@Suite struct GradientTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmul2D(transposeA: Bool, transposeB: Bool) {
        let a = randn(transposeA ? [5, 3] : [3, 5], seed: 1), b = randn(transposeB ? [4, 5] : [5, 4], seed: 2)
        gradCheck([a, b]) { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test(arguments: [(false, false), (true, true)])
    func matmulBatched(transposeA: Bool, transposeB: Bool) {
        let a = randn(transposeA ? [2, 5, 3] : [2, 3, 5], seed: 3)
        let b = randn(transposeB ? [2, 4, 5] : [2, 5, 4], seed: 4)
        gradCheck([a, b]) { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
        let shared = randn(transposeB ? [4, 5] : [5, 4], seed: 5)
        gradCheck([a, shared]) { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test func linearWithBias() {
        gradCheck([randn([2, 3, 6], seed: 6), randn([4, 6], seed: 7), randn([4], seed: 8)]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
    }

    @Test func linearOneRowUsesGEMVAndItsGradient() {
        gradCheck([randn([1, 7], seed: 9), randn([5, 7], seed: 10)]) { linear($0[0], weight: $0[1]) }
    }

    @Test func linearFrozenWeightGetsNoGradient() {
        let x = randn([3, 4], seed: 11).requiringGrad(), w = randn([2, 4], seed: 12)
        linear(x, weight: w).sum().backward()
        #expect(w.grad == nil && !w.requiresGrad)
        #expect(x.grad != nil)
    }

    @Test func addSubMulWithRowBroadcast() {
        let a = randn([3, 4], seed: 13), b = randn([4], seed: 14), c = randn([3, 4], seed: 15)
        gradCheck([a, b]) { $0[0] + $0[1] }
        gradCheck([a, b]) { $0[0] - $0[1] }
        gradCheck([a, b]) { $0[0] * $0[1] }
        gradCheck([a, c]) { $0[0] * $0[1] - $0[1] }
        gradCheck([a]) { ($0[0] * 2.5).adding(scalar: 1) }
    }

    @Test func sumAndMean() {
        gradCheck([randn([3, 5], seed: 16)]) { $0[0].sum() }
        gradCheck([randn([3, 5], seed: 17)]) { $0[0].mean() }
    }

    @Test func embeddingGather() {
        gradCheck([randn([6, 4], seed: 18)]) { embedding($0[0], ids: [1, 5, 1, 0], shape: [2, 2]) }
    }

    @Test func rmsNormFused() {
        gradCheck([randn([3, 40], seed: 19), randn([40], seed: 20, std: 0.5).adding(scalar: 1)]) {
            rmsNorm($0[0], weight: $0[1], eps: 1e-5)
        }
    }

    @Test func layerNorm() {
        gradCheck([randn([3, 20], seed: 21), randn([20], seed: 22), randn([20], seed: 23)]) {
            LoRAKitCore.layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5)
        }
    }

    @Test func ropeRotateHalf() {
        gradCheck([randn([2, 3, 2, 36], seed: 24)]) { rope($0[0], positions: [0, 5, 9], theta: 10000) }
    }

    @Test func siluAndGelu() {
        gradCheck([randn([50], seed: 25, std: 2)]) { $0[0].silu() }
        gradCheck([randn([50], seed: 26, std: 2)]) { $0[0].gelu(.tanh) }
        gradCheck([randn([50], seed: 27, std: 2)]) { $0[0].gelu(.erf) }
    }

    @Test func swigluFused() {
        gradCheck([randn([3, 20], seed: 28, std: 2), randn([3, 20], seed: 29)]) { swiglu(gate: $0[0], up: $0[1]) }
    }

    @Test func softmax() {
        gradCheck([randn([4, 19], seed: 30)]) { $0[0].softmax() }
    }

    @Test(arguments: [false, true])
    func attentionGQA(causal: Bool) {
        // batch 2, 4 query heads over 2 kv heads, head dim 8.
        let q = randn([2, 5, 4, 8], seed: 31), k = randn([2, 5, 2, 8], seed: 32), v = randn([2, 5, 2, 8], seed: 33)
        gradCheck([q, k, v]) { scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: causal) }
    }

    /// Head dim 64 and 6 query rows: the forward runs the fused kernel, whose row statistics backward reuses.
    @Test(arguments: [true, false]) func fusedAttention(causal: Bool) {
        let q = randn([1, 6, 2, 64], seed: 40), k = randn([1, 6, 1, 64], seed: 41), v = randn([1, 6, 1, 64], seed: 42)
        gradCheck([q, k, v]) { scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: causal) }
    }

    /// 70 query rows: the causal backward runs in blocks of 64 rows, each against only the keys its rows see.
    @Test func attentionBackwardInCausalBlocks() {
        let q = randn([1, 70, 2, 4], seed: 45), k = randn([1, 72, 1, 4], seed: 46), v = randn([1, 72, 1, 4], seed: 47)
        gradCheck([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], keyLength: 72, queryOffset: 2)
        }
    }

    @Test func attentionWithOffsetPaddingAndCapacity() {
        // 2 new queries at positions 3, 4 over a cache of capacity 7 holding 5 keys; batch 1 pads key 0.
        let q = randn([2, 2, 3, 4], seed: 34), k = randn([2, 7, 1, 4], seed: 35), v = randn([2, 7, 1, 4], seed: 36)
        let mask = Tensor([1, 1, 1, 1, 1, 0, 1, 1, 1, 1], shape: [2, 5])
        gradCheck([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], keyLength: 5, queryOffset: 3,
                                      keyPaddingMask: mask)
        }
    }

    @Test func chunkedLinearCrossEntropy() {
        let h = randn([5, 8], seed: 37), w = randn([23, 8], seed: 38, std: 0.5)
        gradCheck([h, w]) { linearCrossEntropy(hidden: $0[0], weight: $0[1], targets: [3, -100, 22, 0, 7], chunkSize: 6) }
    }

    /// A frozen head with `hidden` recording takes the fused path (gradient made in forward, scaled in backward).
    @Test func fusedLinearCrossEntropyFrozenHead() {
        let h = randn([5, 8], seed: 43), w = randn([23, 8], seed: 44, std: 0.5)
        gradCheck([h, w], check: [0]) { linearCrossEntropy(hidden: $0[0], weight: $0[1], targets: [3, -100, 22, 0, 7]) }
        gradCheck([h, w], check: [0]) {
            linearCrossEntropy(hidden: $0[0], weight: $0[1], targets: [3, -100, 22, 0, 7]).scaled(by: 2.5)
        }
        let plain = withNoGrad { linearCrossEntropy(hidden: h, weight: w, targets: [3, -100, 22, 0, 7], chunkSize: 6) }
        let fused = linearCrossEntropy(hidden: h.requiringGrad(name: "h"), weight: w, targets: [3, -100, 22, 0, 7])
        #expect(abs(fused.scalar - plain.scalar) < 1e-6)
    }

    /// The fused LoRA projection: x, A and B; and, with a separate (dropout) input, that input too. The weight and
    /// bias are frozen. Rows 3 (the skinny decode kernels) and 12 (the GEMMs).
    @Test(arguments: [3, 12])
    func linearWithLowRank(rows: Int) {
        let (x, w, bias) = (randn([rows, 7], seed: 45), randn([5, 7], seed: 46, std: 0.5), randn([5], seed: 47))
        let (a, b, u) = (randn([3, 7], seed: 48, std: 0.5), randn([5, 3], seed: 49, std: 0.5), randn([rows, 7], seed: 50))
        gradCheck([x, a, b]) {
            LoRAKitCore.linearWithLowRank($0[0], weight: .float32(w), bias: bias, loraInput: $0[0], a: $0[1], b: $0[2],
                                          scale: 1.5)
        }
        gradCheck([x, u, a, b]) {
            LoRAKitCore.linearWithLowRank($0[0], weight: .float32(w), bias: nil, loraInput: $0[1], a: $0[2], b: $0[3],
                                          scale: 0.5)
        }
    }

    @Test func crossEntropyOnLogits() {
        gradCheck([randn([4, 9], seed: 39)]) { crossEntropy(logits: $0[0], targets: [8, 0, -100, 4]) }
    }

    @Test func dropoutUsesTheSameMaskBackward() {
        gradCheck([randn([200], seed: 40)]) { dropout($0[0], probability: 0.3, seed: 7) }
    }

    @Test func movement() {
        let x = randn([2, 3, 4, 5], seed: 41)
        gradCheck([x]) { $0[0].permuted([0, 2, 1, 3]) }
        gradCheck([x]) { $0[0].reshaped([6, 20]).rows(1..<4) }
        gradCheck([x]) { $0[0].sliced(axis: 2, 1..<3) }
        gradCheck([x, randn([2, 3, 2, 5], seed: 42)]) { Tensor.concatenated([$0[0], $0[1]], axis: 2) }
        gradCheck([randn([3, 4], seed: 43)]) { $0[0].transposed() }
    }
}
