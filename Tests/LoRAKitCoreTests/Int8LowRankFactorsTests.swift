import Testing
@testable import LoRAKitCore

/// int8 serving factors (`--adapter-dtype int8`): how far the dequantized product is from fp32's, and inputs that
/// must not trap.
@Suite struct Int8LowRankFactorsTests {
    /// Gaussian factors of the serving benchmark's widest projection: every code is within half a step of its value,
    /// and `x · (B A)ᵀ` is within 2% (relative Frobenius norm) of fp32's — per-rank absmax scales give ~0.75% on
    /// each factor.
    @Test func productStaysCloseToFloat() {
        let a = Tensor.randomNormal([16, 576], seed: 7), b = Tensor.randomNormal([1536, 16], seed: 8)
        let q = Int8LowRankFactors(a: a, b: b)
        let (aq, bq) = q.dequantized()
        for (original, rounded, scale, width) in [(a.scalars, aq.scalars, q.aScale, 576), (b.scalars, bq.scalars, q.bScale, 1)] {
            let worst = original.indices.map { i in
                let j = width == 1 ? i % 16 : i / width
                return abs(original[i] - rounded[i]) / scale[j]
            }.max()!
            #expect(worst <= 0.5 + 1e-4, "a code is \(worst) steps from its value")
        }
        let x = Tensor.randomNormal([4, 576], seed: 9)
        let exact = matmul(matmul(x, a.transposed()), b.transposed()).scalars
        let approx = matmul(matmul(x, aq.transposed()), bq.transposed()).scalars
        let error = zip(exact, approx).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        let norm = exact.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(error / norm < 0.02 && error / norm > 0, "relative error \(error / norm)")
    }

    /// Zero rows, NaN and ±∞ quantize without trapping: zeros stay zeros, NaN stores 0, ∞ the largest code (0 in a row or column with
    /// nothing finite to scale by).
    @Test func degenerateValuesDoNotTrap() {
        let a = Tensor([0, 0, 0, 1, .nan, -.infinity], shape: [2, 3])
        let b = Tensor([1, .infinity, -4, 0], shape: [2, 2])
        let q = Int8LowRankFactors(a: a, b: b)
        #expect((0..<6).map { q.a[$0] } == [0, 0, 0, 127, 0, -127])
        #expect(q.aScale == [0, 1 / 127] && q.bScale == [4 / 127, 0])
        #expect((0..<4).map { q.b[$0] } == [32, 0, -127, 0])
        #expect(q.rankScale[0] == 0 && q.rankScale[1] == 0)
    }
}
