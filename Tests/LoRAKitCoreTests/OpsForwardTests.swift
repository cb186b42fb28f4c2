import Foundation
import Testing
@testable import LoRAKitCore

/// Forward results against naive reference implementations written out loop by loop.
@Suite struct OpsForwardTests {
    static func naive(_ a: Tensor, _ b: Tensor, tA: Bool, tB: Bool) -> Tensor {
        let m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1], n = tB ? b.shape[0] : b.shape[1]
        let c = Tensor(uninitializedShape: [m, n])
        Kernels.naiveGEMM(transA: tA, transB: tB, m: m, n: n, k: k, a: a.base, lda: a.shape[1], b: b.base,
                          ldb: b.shape[1], c: c.base, ldc: n)
        return c
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)], [1, 2, 33])
    func matmulMatchesNaive(transpose: (Bool, Bool), m: Int) {
        let (k, n) = (70, 45)
        let a = randn(transpose.0 ? [k, m] : [m, k], seed: 1), b = randn(transpose.1 ? [n, k] : [k, n], seed: 2)
        expectClose(matmul(a, b, transposeA: transpose.0, transposeB: transpose.1),
                    Self.naive(a, b, tA: transpose.0, tB: transpose.1), atol: 1e-4)
        // one output column routes to GEMV as well
        let b1 = randn(transpose.1 ? [1, k] : [k, 1], seed: 3)
        expectClose(matmul(a, b1, transposeA: transpose.0, transposeB: transpose.1),
                    Self.naive(a, b1, tA: transpose.0, tB: transpose.1), atol: 1e-4)
    }

    /// The skinny kernel's outputs do not depend on how many rows share a weight row — including the k-blocked loop
    /// that x rows too big for L1 take (8 × 1536 floats) and a k tail — and match the naive product.
    @Test(arguments: [576, 1536, 1537])
    func skinnyRowsAreBatchInvariant(k: Int) {
        let (m, n) = (8, 45)
        let x = randn([m, k], seed: 21), w = randn([n, k], seed: 22)
        let together = linear(x, weight: w).scalars
        for i in 0..<m {
            let alone = linear(x.rows(i..<(i + 1)), weight: w).scalars
            #expect(Array(together[(i * n)..<((i + 1) * n)]) == alone, "row \(i) changed with 8 rows (k \(k))")
        }
        expectClose(linear(x, weight: w), Self.naive(x, w, tA: false, tB: true), atol: 1e-3)
    }

    @Test func linearMatchesNaiveWithBias() {
        let x = randn([3, 20], seed: 4), w = randn([7, 20], seed: 5), b = randn([7], seed: 6)
        expectClose(linear(x, weight: w, bias: b), Self.naive(x, w, tA: false, tB: true) + b, atol: 1e-4)
        expectClose(linear(x.rows(0..<1), weight: w), Self.naive(x.rows(0..<1), w, tA: false, tB: true), atol: 1e-4)
    }

    @Test func rmsNormAndLayerNormMatchFormulas() {
        let x = randn([3, 37], seed: 7), w = randn([37], seed: 8), b = randn([37], seed: 9)
        let xs = x.scalars, ws = w.scalars, bs = b.scalars
        var rms = [Float](), ln = [Float]()
        for r in 0..<3 {
            let row = xs[(r * 37)..<(r * 37 + 37)].map(Double.init)
            let s = 1 / (row.map { $0 * $0 }.reduce(0, +) / 37 + 1e-5).squareRoot()
            rms += row.enumerated().map { Float($0.element * s) * ws[$0.offset] }
            let mu = row.reduce(0, +) / 37
            let sd = 1 / (row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 37 + 1e-5).squareRoot()
            ln += row.enumerated().map { Float(($0.element - mu) * sd) * ws[$0.offset] + bs[$0.offset] }
        }
        expectClose(rmsNorm(x, weight: w, eps: 1e-5), Tensor(rms, shape: [3, 37]))
        expectClose(layerNorm(x, weight: w, bias: b, eps: 1e-5), Tensor(ln, shape: [3, 37]))
    }

    @Test func activationsMatchFormulas() {
        let x = randn([300], seed: 10, std: 4)
        let xs = x.scalars.map(Double.init)
        func t(_ f: (Double) -> Double) -> Tensor { Tensor(xs.map { Float(f($0)) }, shape: [300]) }
        expectClose(x.silu(), t { $0 / (1 + exp(-$0)) }, atol: 1e-6)
        expectClose(x.gelu(.erf), t { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, atol: 1e-6)
        expectClose(x.gelu(.tanh), t { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) },
                    atol: 1e-6)
        let up = randn([300], seed: 11)
        expectClose(swiglu(gate: x, up: up), x.silu() * up, atol: 1e-6)
        let e = Tensor(xs.map { Float($0 * 5) }, shape: [300])  // exp over [-60, 60]
        e.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: 288, by: 16) {
                let v = Kernels.exp(Kernels.load(p.baseAddress! + i))
                for j in 0..<16 {
                    let ref = exp(Double(p[i + j]))
                    #expect(abs(Double(v[j]) - ref) <= 3e-7 * ref)
                }
            }
        }
    }

    @Test func softmaxRowsSumToOne() {
        let y = randn([5, 77], seed: 12, std: 10).softmax().scalars
        for r in 0..<5 { #expect(abs(y[(r * 77)..<(r * 77 + 77)].reduce(0, +) - 1) < 1e-5) }
    }

    @Test func ropeMatchesRotateHalfFormula() {
        let (t, h, d) = (3, 2, 8)
        let x = randn([1, t, h, d], seed: 13)
        let y = rope(x, positions: [0, 4, 7], theta: 10000).scalars, xs = x.scalars
        let pos: [Float] = [0, 4, 7]
        for ti in 0..<t { for hi in 0..<h { for i in 0..<(d / 2) {
            let base = (ti * h + hi) * d
            let angle = Double(pos[ti]) * pow(10000, -Double(2 * i) / Double(d))
            let (x1, x2) = (Double(xs[base + i]), Double(xs[base + i + d / 2]))
            #expect(abs(Double(y[base + i]) - (x1 * cos(angle) - x2 * sin(angle))) < 1e-5)
            #expect(abs(Double(y[base + i + d / 2]) - (x2 * cos(angle) + x1 * sin(angle))) < 1e-5)
        } } }
    }

    /// Naive attention: loops over batch, head, query, key (GQA by head / group, causal by absolute position).
    static func naiveAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, keyLength tk: Int, offset: Int,
                               mask: [Float]?) -> Tensor {
        let (b, tq, hq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (cap, hkv) = (k.shape[1], k.shape[2])
        let (qs, ks, vs) = (q.scalars, k.scalars, v.scalars)
        var out = [Float](repeating: 0, count: q.count)
        for bi in 0..<b { for h in 0..<hq { for i in 0..<tq {
            let kh = h / (hq / hkv)
            var scores = [Double](repeating: -.infinity, count: tk)
            for j in 0..<tk where j <= offset + i && (mask?[bi * tk + j] ?? 1) != 0 {
                var s = 0.0
                for x in 0..<d { s += Double(qs[((bi * tq + i) * hq + h) * d + x]) * Double(ks[((bi * cap + j) * hkv + kh) * d + x]) }
                scores[j] = s / Double(d).squareRoot()
            }
            let m = scores.max()!
            guard m > -.infinity else { continue }
            let e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
            for x in 0..<d {
                var acc = 0.0
                for j in 0..<tk { acc += e[j] / z * Double(vs[((bi * cap + j) * hkv + kh) * d + x]) }
                out[((bi * tq + i) * hq + h) * d + x] = Float(acc)
            }
        } } }
        return Tensor(out, shape: q.shape)
    }

    @Test func attentionMatchesNaive() {
        let q = randn([2, 6, 6, 16], seed: 14), k = randn([2, 9, 2, 16], seed: 15), v = randn([2, 9, 2, 16], seed: 16)
        expectClose(scaledDotProductAttention(query: q, key: k, value: v, keyLength: 6),
                    Self.naiveAttention(q, k, v, keyLength: 6, offset: 0, mask: nil), atol: 1e-5)
        let mask: [Float] = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        let q2 = q.sliced(axis: 1, 0..<3)
        expectClose(scaledDotProductAttention(query: q2, key: k, value: v, keyLength: 9, queryOffset: 6,
                                              keyPaddingMask: Tensor(mask, shape: [2, 9])),
                    Self.naiveAttention(q2, k, v, keyLength: 9, offset: 6, mask: mask), atol: 1e-5)
    }

    /// Head dim 64 with 4 or more query rows takes the fused kernel (64-key blocks, online softmax, causal block
    /// skipping). 70 queries are not a multiple of its 4- or 32-row blocks, 150 keys end inside the third key block,
    /// and the padding mask leaves some rows with no key at all (they must come out as zeros).
    @Test func fusedAttentionMatchesNaive() {
        let q = randn([2, 70, 6, 64], seed: 60), k = randn([2, 160, 3, 64], seed: 61), v = randn([2, 160, 3, 64], seed: 62)
        expectClose(scaledDotProductAttention(query: q, key: k, value: v, keyLength: 70),
                    Self.naiveAttention(q, k, v, keyLength: 70, offset: 0, mask: nil), atol: 1e-5)
        expectClose(scaledDotProductAttention(query: q, key: k, value: v, keyLength: 150, queryOffset: 80),
                    Self.naiveAttention(q, k, v, keyLength: 150, offset: 80, mask: nil), atol: 1e-5)
        expectClose(scaledDotProductAttention(query: q, key: k, value: v, keyLength: 150, causal: false),
                    Self.naiveAttention(q, k, v, keyLength: 150, offset: 150, mask: nil), atol: 1e-5)
        let mask = (0..<300).map { i -> Float in i < 100 ? 0 : (i >= 150 && i % 7 == 3 ? 0 : 1) }
        let masked = scaledDotProductAttention(query: q, key: k, value: v, keyLength: 150,
                                               keyPaddingMask: Tensor(mask, shape: [2, 150]))
        expectClose(masked, Self.naiveAttention(q, k, v, keyLength: 150, offset: 0, mask: mask), atol: 1e-5)
        #expect(masked.sliced(axis: 1, 0..<50).sliced(axis: 0, 0..<1).scalars.allSatisfy { $0 == 0 })
    }

    /// Decoding one token at position p with a cache equals row p of full causal attention.
    @Test func decodeStepEqualsPrefillRow() {
        let q = randn([1, 5, 4, 8], seed: 17), k = randn([1, 5, 2, 8], seed: 18), v = randn([1, 5, 2, 8], seed: 19)
        let full = scaledDotProductAttention(query: q, key: k, value: v)
        let step = scaledDotProductAttention(query: q.sliced(axis: 1, 3..<4), key: k, value: v, keyLength: 4,
                                             queryOffset: 3)
        expectClose(step, full.sliced(axis: 1, 3..<4), atol: 1e-5)
    }

    @Test func chunkedCrossEntropyEqualsPlain() {
        let h = randn([6, 16], seed: 20), w = randn([50, 16], seed: 21)
        let targets: [Int32] = [0, 49, -100, 7, 7, 30]
        let plain = crossEntropy(logits: matmul(h, w, transposeB: true), targets: targets).scalar
        for chunk in [7, 16, 50, 4096] {
            #expect(abs(linearCrossEntropy(hidden: h, weight: w, targets: targets, chunkSize: chunk).scalar - plain) < 1e-5)
        }
        let logits = randn([1, 5], seed: 22)
        let ls = logits.scalars.map(Double.init)
        let ref = log(ls.map(exp).reduce(0, +)) - ls[2]
        #expect(abs(Double(crossEntropy(logits: logits, targets: [2]).scalar) - ref) < 1e-5)
        #expect(crossEntropy(logits: logits, targets: [-100]).scalar == 0)
    }

    @Test func dropoutIsSeededAndScaled() {
        let x = Tensor.filled([10000], value: 1)
        let a = dropout(x, probability: 0.25, seed: 1).scalars
        #expect(a == dropout(x, probability: 0.25, seed: 1).scalars)
        #expect(a != dropout(x, probability: 0.25, seed: 2).scalars)
        let kept = a.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
        #expect(abs(Double(kept.count) / 10000 - 0.75) < 0.02)
    }

    @Test func embeddingGathersRows() {
        let w = Tensor((0..<12).map(Float.init), shape: [4, 3])
        let e = embedding(w, ids: [3, 0], shape: [1, 2])
        #expect(e.shape == [1, 2, 3] && e.scalars == [9, 10, 11, 0, 1, 2])
    }

    @Test func broadcastArithmetic() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([10, 20], shape: [2])
        #expect((a + b).scalars == [11, 22, 13, 24])
        #expect((a - b).scalars == [-9, -18, -7, -16])
        #expect((a * b).scalars == [10, 40, 30, 80])
        #expect((a * 0.5).scalars == [0.5, 1, 1.5, 2])
        #expect(a.sum().scalar == 10 && a.mean().scalar == 2.5)
    }
}
