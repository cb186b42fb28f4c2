import CBLAS

extension KernelBenchmarks {
    /// bf16-weight GEMM at the training shapes (tokens 1024 × hidden 576) for each output width, forward `x · Wᵀ`
    /// and input gradient `dY · W`, each timed interleaved with `sgemm` on the same fp32 shape.
    static func bf16GEMM(threads t: Int) -> [KernelMeasurement] {
        var out: [KernelMeasurement] = []
        for n in widths {
            let x = Tensor.randomNormal([rows, hidden], seed: 30), g = Tensor.randomNormal([rows, n], seed: 31)
            let wf = Tensor.randomNormal([n, hidden], std: 0.02, seed: 32)
            let w = BF16Matrix(wf)
            let c = Tensor(uninitializedShape: [rows, n]), dx = Tensor(uninitializedShape: [rows, hidden])
            let flops = 2 * Double(rows * n * hidden)
            let (fwd, fwdRef) = BenchmarkTimer.bestInterleaved({
                Kernels.gemmBF16(transB: true, m: rows, n: n, k: hidden, a: x.base, lda: hidden, b: w.bits,
                                 ldb: hidden, c: c.base, ldc: n)
            }, {
                Kernels.gemm(transA: false, transB: true, m: rows, n: n, k: hidden, a: x.base, lda: hidden,
                             b: wf.base, ldb: hidden, c: c.base, ldc: n)
            })
            out.append(KernelMeasurement(kernel: "bf16 GEMM NT (x · Wᵀ)", shape: "\(rows)x\(hidden) · \(n)x\(hidden)ᵀ",
                                         threads: t, unit: "GFLOP/s", value: flops / fwd / 1e9,
                                         milliseconds: fwd * 1e3, reference: "sgemm NT, same shape",
                                         ratio: fwdRef / fwd))
            let (bwd, bwdRef) = BenchmarkTimer.bestInterleaved({
                Kernels.gemmBF16(transB: false, m: rows, n: hidden, k: n, a: g.base, lda: n, b: w.bits, ldb: hidden,
                                 c: dx.base, ldc: hidden)
            }, {
                Kernels.gemm(transA: false, transB: false, m: rows, n: hidden, k: n, a: g.base, lda: n, b: wf.base,
                             ldb: hidden, c: dx.base, ldc: hidden)
            })
            out.append(KernelMeasurement(kernel: "bf16 GEMM NN (dY · W)", shape: "\(rows)x\(n) · \(n)x\(hidden)",
                                         threads: t, unit: "GFLOP/s", value: flops / bwd / 1e9,
                                         milliseconds: bwd * 1e3, reference: "sgemm NN, same shape",
                                         ratio: bwdRef / bwd))
        }
        return out
    }

    /// Decode: one row through the largest weight, bf16 widened by shift (the default), bf16 with `vdpbf16ps` on
    /// x rounded to bf16, and fp32; bandwidth counts the weight bytes each one streams.
    static func bf16Decode(threads t: Int) -> [KernelMeasurement] {
        let n = widths[2]
        let wf = Tensor.randomNormal([n, hidden], seed: 33), w = BF16Matrix(wf)
        let x = Tensor.randomNormal([1, hidden], seed: 34), y = Tensor(uninitializedShape: [1, n])
        let grain = Swift.max(1, Kernels.gemvGrain / hidden)
        func run(_ kernel: (UnsafePointer<UInt16>, Int, UnsafeMutablePointer<Float>, Int) -> Void) -> Double {
            BenchmarkTimer.best(repetitions: 20) {
                parallelFor(n, grain: grain) { r in kernel(w.bits + r.lowerBound * hidden, r.count, y.base + r.lowerBound, r.count) }
            }
        }
        let fp32 = BenchmarkTimer.best(repetitions: 20) { _ = linear(x, weight: wf) }
        let shift = run { wp, rows, yp, _ in lk_gemm_skinny_bf16(wp, hidden, x.base, hidden, yp, n, 1, rows, hidden, 1, 0) }
        let dot = run { wp, rows, yp, _ in lk_gemm_skinny_bf16_dot(wp, hidden, x.base, hidden, yp, n, 1, rows, hidden, 1, 0) }
        let shape = "1x\(hidden) · \(n)x\(hidden)ᵀ"
        return [
            KernelMeasurement(kernel: "decode fp32 weights", shape: shape, threads: t, unit: "GB/s",
                              value: Double(n * hidden * 4) / fp32 / 1e9, milliseconds: fp32 * 1e3),
            KernelMeasurement(kernel: "decode bf16 weights (shift to fp32, default)", shape: shape, threads: t,
                              unit: "GB/s", value: Double(w.byteCount) / shift / 1e9, milliseconds: shift * 1e3,
                              reference: "fp32 weights, time", ratio: fp32 / shift),
            KernelMeasurement(kernel: "decode bf16 weights (vdpbf16ps, x in bf16)", shape: shape, threads: t,
                              unit: "GB/s", value: Double(w.byteCount) / dot / 1e9, milliseconds: dot * 1e3,
                              reference: "fp32 weights, time", ratio: fp32 / dot),
        ]
    }
}
