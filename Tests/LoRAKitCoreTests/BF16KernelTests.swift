import CBLAS
import Testing
@testable import LoRAKitCore

/// The bf16-weight kernels against references in `Double`.
///
/// Two references per product: with `x` rounded to bf16 exactly as the kernel rounds it (bf16 × bf16 products are exact
/// in fp32, so only the summation order differs: tolerance 1e-5 of `Σ|x||w|`), and with `x` in fp32 (the bf16 rounding
/// of x contributes at most 2⁻⁹ relative per product: tolerance 2⁻⁸ of `Σ|x||w|`).
@Suite struct BF16KernelTests {
    /// bf16 rounding: nearest even, ties to even, NaN and infinities kept, and widening is exact.
    @Test func roundingToNearestEven() {
        let values: [Float] = [1, -2.5, 1 + 1 / 256, 1 + 3 / 256, 1 + 1 / 512, 3.14159265, .infinity, -.infinity,
                               .nan, 1e-40, 0, -0.0]
        var bits = [UInt16](repeating: 0, count: values.count)
        lk_f32_to_bf16(values, &bits, values.count)
        var back = [Float](repeating: 0, count: values.count)
        lk_bf16_to_f32(bits, &back, values.count)
        #expect(back[0] == 1 && back[1] == -2.5)
        #expect(back[2] == 1, "1 + 2⁻⁸ is a tie between 1 and 1 + 2⁻⁷: ties go to even (1)")
        #expect(back[3] == Float(1) + Float(4) / 256, "1 + 3·2⁻⁸ is a tie: ties go to the even 1 + 2⁻⁶")
        #expect(back[4] == 1)
        #expect(abs(back[5] - 3.140625) < 1e-7)
        #expect(back[6] == .infinity && back[7] == -.infinity && back[8].isNaN)
        #expect(back[9] > 0 && abs(back[9] - 1e-40) <= 4.6e-41,
                "denormals round to the nearest multiple of 2⁻¹³³ (not flushed to zero)")
        #expect(back[10] == 0 && back[11].sign == .minus)
    }

    static func roundedToBF16(_ t: Tensor) -> Tensor { BF16Matrix(t.reshaped([1, t.count])).floats().reshaped(t.shape) }

    /// Checks `c[m, n]` against `x[m, k] · op(w)` in `Double`, `w` given in fp32 (already bf16 values).
    static func check(_ c: [Float], x: Tensor, w: Tensor, transB: Bool, m: Int, n: Int, k: Int, tolerance: Double,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let xs = x.scalars, ws = w.scalars
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let wv = Double(transB ? ws[j * k + p] : ws[p * n + j]), xv = Double(xs[i * k + p])
                    s += xv * wv
                    magnitude += abs(xv * wv)
                }
                worst = max(worst, abs(Double(c[i * n + j]) - s) / (tolerance * magnitude + 1e-30))
            }
        }
        #expect(worst <= 1, "error is \(worst)× the tolerance (m \(m) n \(n) k \(k) transB \(transB))",
                sourceLocation: sourceLocation)
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 17, 33), (3, 65, 31), (4, 300, 576), (5, 64, 2),
                                            (7, 65, 1), (13, 129, 1100), (70, 257, 96), (6, 64, 64)]

    @Test(arguments: shapes)
    func forwardMatchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = Tensor.randomNormal([m, k], seed: 1)
        let w = BF16Matrix(Tensor.randomNormal([n, k], std: 0.5, seed: 2))
        let wf = w.floats()
        var c = [Float](repeating: .nan, count: m * n)
        Kernels.gemmBF16(transB: true, m: m, n: n, k: k, a: x.base, lda: k, b: w.bits, ldb: k, c: &c, ldc: n)
        Self.check(c, x: x, w: wf, transB: true, m: m, n: n, k: k, tolerance: 1.0 / 256)
        if m > Kernels.skinnyRowsBF16 && lk_bf16_gemm_available() != 0 {
            Self.check(c, x: Self.roundedToBF16(x), w: wf, transB: true, m: m, n: n, k: k, tolerance: 1e-5)
        } else {
            Self.check(c, x: x, w: wf, transB: true, m: m, n: n, k: k, tolerance: 1e-5)
        }
    }

    @Test(arguments: shapes)
    func inputGradientProductMatchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape  // dX [m, n] = dY [m, k] · W [k, n]
        let g = Tensor.randomNormal([m, k], seed: 3)
        let w = BF16Matrix(Tensor.randomNormal([k, n], std: 0.5, seed: 4))
        var c = [Float](repeating: .nan, count: m * n)
        Kernels.gemmBF16(transB: false, m: m, n: n, k: k, a: g.base, lda: k, b: w.bits, ldb: n, c: &c, ldc: n)
        Self.check(c, x: g, w: w.floats(), transB: false, m: m, n: n, k: k, tolerance: 1.0 / 256)
        if lk_bf16_gemm_available() != 0 {
            Self.check(c, x: Self.roundedToBF16(g), w: w.floats(), transB: false, m: m, n: n, k: k, tolerance: 1e-5)
        }
    }

    /// The portable paths (CPUs without AVX-512 / AVX512_BF16) on this CPU: exact fp32 activations.
    @Test(arguments: [(3, 65, 31), (13, 129, 1100), (70, 257, 96)])
    func portablePathsMatchReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = Tensor.randomNormal([m, k], seed: 5)
        let w = BF16Matrix(Tensor.randomNormal([n, k], std: 0.5, seed: 6))
        var c = [Float](repeating: .nan, count: m * n)
        Kernels.widenedGEMMBF16(transB: true, m: m, n: n, k: k, alpha: 1, a: x.base, lda: k, b: w.bits, ldb: k,
                                beta: 0, c: &c, ldc: n)
        Self.check(c, x: x, w: w.floats(), transB: true, m: m, n: n, k: k, tolerance: 1e-5)
        var s = [Float](repeating: .nan, count: m * n)
        lk_gemm_skinny_bf16_portable(w.bits, k, x.base, k, &s, n, m, n, k, 1, 0)
        Self.check(s, x: x, w: w.floats(), transB: true, m: m, n: n, k: k, tolerance: 1e-5)
        let wt = BF16Matrix(Tensor.randomNormal([n, m], std: 0.5, seed: 7)), g = Tensor.randomNormal([k, n], seed: 8)
        var d = [Float](repeating: .nan, count: k * m)
        Kernels.widenedGEMMBF16(transB: false, m: k, n: m, k: n, alpha: 1, a: g.base, lda: n, b: wt.bits, ldb: m,
                                beta: 0, c: &d, ldc: m)
        Self.check(d, x: g, w: wt.floats(), transB: false, m: k, n: m, k: n, tolerance: 1e-5)
    }

    /// alpha, beta and leading dimensions wider than the matrices, on the skinny and the GEMM paths.
    @Test(arguments: [2, 9])
    func alphaBetaAndStrides(m: Int) {
        let (n, k, ldc, lda) = (70, 40, 80, 45)
        let x = Tensor.randomNormal([m, lda], seed: 9), w = BF16Matrix(Tensor.randomNormal([n, k], seed: 10))
        var c = (0..<(m * ldc)).map { Float($0 % 7) }
        let before = c
        Kernels.gemmBF16(transB: true, m: m, n: n, k: k, alpha: 0.5, a: x.base, lda: lda, b: w.bits, ldb: k,
                         beta: 2, c: &c, ldc: ldc)
        let xs = x.scalars, ws = w.floats().scalars
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else { #expect(c[i * ldc + j] == before[i * ldc + j]); continue }
                var s = 0.0, magnitude = 0.0
                for p in 0..<k { s += Double(xs[i * lda + p] * ws[j * k + p]); magnitude += abs(Double(xs[i * lda + p] * ws[j * k + p])) }
                let expected = 0.5 * s + 2 * Double(before[i * ldc + j])
                #expect(abs(Double(c[i * ldc + j]) - expected) <= magnitude / 256 + 1e-5)
            }
        }
    }

    /// `vdpbf16ps` decode variant (kept for the benchmark) agrees with the fp32-activation kernel to bf16 precision.
    @Test func dotProductDecodeVariant() {
        let (m, n, k) = (2, 33, 577)
        let x = Tensor.randomNormal([m, k], seed: 11), w = BF16Matrix(Tensor.randomNormal([n, k], seed: 12))
        var c = [Float](repeating: .nan, count: m * n)
        lk_gemm_skinny_bf16_dot(w.bits, k, x.base, k, &c, n, m, n, k, 1, 0)
        Self.check(c, x: x, w: w.floats(), transB: true, m: m, n: n, k: k, tolerance: 1.0 / 256)
    }
}

/// `linear(_:weight: BF16Matrix, bias:)`: gradients with respect to the input and the bias.
@Suite struct BF16LinearGradientTests {
    /// Few rows run the fp32-activation kernel, so the forward is smooth in x and finite differences apply. The
    /// backward GEMM rounds dY to bf16 (≤ 2⁻⁹ relative per product; 5 unit-size products here, which may cancel), so
    /// the absolute tolerance is 3e-2 instead of the default 2e-3 (the bias gradient is exact).
    @Test func finiteDifferenceGradient() {
        let w = BF16Matrix(randn([5, 7], seed: 20))
        gradCheck([randn([3, 7], seed: 21), randn([5], seed: 22)], atol: 3e-2) { linear($0[0], weight: w, bias: $0[1]) }
        gradCheck([randn([2, 2, 7], seed: 23)], atol: 3e-2) { linear($0[0], weight: w) }
        gradCheck([randn([3, 7], seed: 21), randn([5], seed: 22)], check: [1]) { linear($0[0], weight: w, bias: $0[1]) }
    }

    /// Many rows (bf16 GEMM forward and backward): the input gradient equals the fp32 op's on the widened weight to
    /// bf16 precision (dY rounded: ≤ 2⁻⁹ of Σ|dY||W| ≈ 37 · 0.8 · 0.8 here, below 1/64 of the largest gradient),
    /// and there is no weight gradient to compute.
    @Test func gemmPathGradientMatchesFP32() {
        let wf = BF16Matrix(randn([37, 50], seed: 24)).floats(), w = BF16Matrix(wf)
        let x = randn([3, 11, 50], seed: 25), seed = randn([3, 11, 37], seed: 26)
        let a = x.requiringGrad(), b = x.requiringGrad()
        linear(a, weight: w).backward(seed: seed)
        linear(b, weight: wf).backward(seed: seed)
        let ga = a.grad!.scalars, gb = b.grad!.scalars
        let scale = gb.map(abs).max()!
        #expect(a.grad!.shape == x.shape)
        #expect(zip(ga, gb).allSatisfy { abs($0 - $1) <= scale / 64 })
        let y = linear(x, weight: w)
        #expect(!y.requiresGrad, "a frozen weight and a frozen input record nothing")
    }

    /// The bf16 GEMM's blocks of C cover every element once, and whole column slices are shared out whole: with 576
    /// columns on two threads, two 256-column blocks over all rows and the last 64 columns split by rows.
    @Test(arguments: [(1024, 576, 2), (1024, 192, 2), (1024, 1536, 2), (7, 300, 2), (1024, 576, 1), (100, 1000, 3),
                      (1, 5, 4)])
    func blocksCoverTheOutputOnce(shape: (Int, Int, Int)) {
        let (m, n, threads) = shape
        let tasks = Kernels.bf16Tasks(m: m, n: n, threads: threads)
        var covered = [Int](repeating: 0, count: m * n)
        for (rows, columns) in tasks { for i in rows { for j in columns { covered[i * n + j] += 1 } } }
        #expect(covered.allSatisfy { $0 == 1 })
        if (m, n, threads) == (1024, 576, 2) {
            #expect(tasks.map(\.columns) == [0..<256, 256..<512, 512..<576, 512..<576])
            #expect(tasks.map(\.rows) == [0..<1024, 0..<1024, 0..<516, 516..<1024])
        }
    }
}
