import CBLAS
import Foundation

/// One measured figure of `lorakit bench kernels`.
public struct KernelMeasurement: Codable, Sendable {
    /// What ran, e.g. `sgemm NT` or `rmsNorm fwd+bwd`.
    public var kernel: String
    /// The problem shape in words, e.g. `1024x576 · 49152x576ᵀ`.
    public var shape: String
    public var threads: Int
    /// `GFLOP/s` or `GB/s`.
    public var unit: String
    public var value: Double
    /// Best time per call.
    public var milliseconds: Double
    /// What `ratio` compares against, if anything.
    public var reference: String?
    /// `value / reference value`.
    public var ratio: Double?
}

/// The result of ``KernelBenchmarks/run(threads:)``.
public struct KernelBenchmarkReport: Codable, Sendable {
    public var blas: BLASInfo
    public var threads: Int
    public var measurements: [KernelMeasurement]
}

/// Kernel micro-benchmarks at SmolLM2-135M training shapes (tokens 1024 = batch 4 × 256, hidden 576, MLP 1536,
/// vocab 49152, 9 query / 3 KV heads of 64).
public enum KernelBenchmarks {
    /// The families of measurements; ``run(threads:groups:progress:)`` runs the ones asked for.
    public enum Group: String, CaseIterable, Codable, Sendable {
        /// Raw `sgemm` at the training shapes on 1 thread and all threads.
        case gemm
        /// `linear` forward + backward against the same raw GEMMs, and the one-row (decode) GEMV.
        case linear
        /// Copy bandwidth and elementwise kernels on 1 thread and all threads.
        case elementwise
        /// RMSNorm, SwiGLU, softmax, attention and chunked cross-entropy, forward + backward.
        case fused
        /// bf16-weight GEMM (forward and input gradient) next to `sgemm`, and bf16 decode kernels next to fp32.
        case bf16
        /// The segmented multi-adapter LoRA kernel on a serving decode step, next to two GEMMs per adapter.
        case lora
    }

    /// Training shapes: rows (tokens) × inner and the three output widths.
    public static let rows = 1024, hidden = 576, widths = [576, 1536, 49152]

    /// Runs every benchmark; `threads` is the "all threads" count (the 1-thread figures always run too).
    /// Restores the previous thread count afterwards.
    public static func run(threads: Int, groups: Set<Group> = Set(Group.allCases),
                           progress: (String) -> Void = { _ in }) -> KernelBenchmarkReport {
        let saved = ComputeThreads.count
        defer { ComputeThreads.set(saved) }
        var out: [KernelMeasurement] = []
        func add(_ m: KernelMeasurement) { out.append(m); progress(m.kernel + " " + m.shape) }

        // 1. Raw sgemm, 1 thread and all threads.
        for t in Array(Set([1, threads])).sorted() where groups.contains(.gemm) {
            ComputeThreads.set(t)
            for n in widths {
                let sec = gemmTime(m: rows, n: n, k: hidden, transA: false, transB: true)
                let gf = 2 * Double(rows * n * hidden) / sec / 1e9
                add(KernelMeasurement(kernel: "sgemm NT", shape: "\(rows)x\(hidden) · \(n)x\(hidden)ᵀ", threads: t,
                                      unit: "GFLOP/s", value: gf, milliseconds: sec * 1e3))
            }
        }
        ComputeThreads.set(threads)
        // 2. linear forward + backward (3 GEMMs) vs the same three raw sgemm calls.
        for n in widths where groups.contains(.linear) {
            let x = Tensor.randomNormal([rows, hidden], seed: 1).requiringGrad()
            let w = Tensor.randomNormal([n, hidden], std: 0.02, seed: 2).requiringGrad()
            let seed = Tensor.filled([rows, n], value: 1e-3)
            let raw = RawGEMMs([(rows, n, hidden, false, true), (rows, hidden, n, false, false),
                                (n, hidden, rows, true, false)])
            let (sec, rawSec) = BenchmarkTimer.bestInterleaved({
                x.zeroGrad(); w.zeroGrad()
                linear(x, weight: w).backward(seed: seed)
            }, raw.run)
            let flops = 3 * 2 * Double(rows * n * hidden)
            add(KernelMeasurement(kernel: "linear fwd+bwd", shape: "x \(rows)x\(hidden), W \(n)x\(hidden)",
                                  threads: threads, unit: "GFLOP/s", value: flops / sec / 1e9,
                                  milliseconds: sec * 1e3, reference: "3 raw sgemm (NT, NN, TN)", ratio: rawSec / sec))
        }
        // 3. Decode: one row through the largest weight (GEMV streams the matrix).
        if groups.contains(.linear) {
            let w = Tensor.randomNormal([widths[2], hidden], seed: 3), x = Tensor.randomNormal([1, hidden], seed: 4)
            let sec = BenchmarkTimer.best(repetitions: 20) { _ = linear(x, weight: w) }
            add(KernelMeasurement(kernel: "linear 1 row (GEMV, decode)", shape: "1x\(hidden) · \(widths[2])x\(hidden)ᵀ",
                                  threads: threads, unit: "GB/s", value: Double(w.count * 4) / sec / 1e9,
                                  milliseconds: sec * 1e3))
        }
        // 4. Memory bandwidth reference and elementwise kernels, 1 thread and all threads.
        for t in Array(Set([1, threads])).sorted() where groups.contains(.elementwise) {
            ComputeThreads.set(t)
            for m in elementwise(threads: t) { add(m) }
        }
        ComputeThreads.set(threads)
        // 5. Fused training kernels, forward + backward.
        if groups.contains(.fused) { for m in fused(threads: threads) { add(m) } }
        // 6. bf16 weights: GEMM vs sgemm at the same shapes, decode kernels vs fp32.
        if groups.contains(.bf16) {
            for t in Array(Set([1, threads])).sorted() {
                ComputeThreads.set(t)
                for m in bf16GEMM(threads: t) { add(m) }
            }
            ComputeThreads.set(threads)
            for m in bf16Decode(threads: threads) { add(m) }
        }
        // 7. Serving many adapters: the segmented LoRA kernel.
        if groups.contains(.lora) { for m in segmentedLoRA(threads: threads) + fusedLoRA(threads: threads) { add(m) } }
        return KernelBenchmarkReport(blas: .current, threads: threads, measurements: out)
    }

    static func gemmTime(m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> Double {
        let a = Tensor.randomNormal([m * k], seed: 5), b = Tensor.randomNormal([k * n], seed: 6)
        let c = Tensor(uninitializedShape: [m * n])
        return BenchmarkTimer.best(repetitions: 3) {
            Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.base, lda: transA ? m : k, b: b.base,
                         ldb: transB ? k : n, c: c.base, ldc: n)
        }
    }

    static func elementwise(threads t: Int) -> [KernelMeasurement] {
        let n = 1 << 24  // 64 MiB per operand: far beyond the caches
        let a = Tensor.randomNormal([n], seed: 7), b = Tensor.randomNormal([n], seed: 8)
        let dst = Tensor(uninitializedShape: [n])
        let bytes = Double(n * 4)
        let copySec = BenchmarkTimer.best {
            let (s, d) = (a.base, dst.base)
            parallelFor(n, grain: Kernels.elementwiseGrain) { r in
                var i = r.lowerBound
                while i + 16 <= r.upperBound { Kernels.store(Kernels.load(s + i), d + i); i += 16 }
            }
        }
        let copy = 2 * bytes / copySec / 1e9
        var out = [KernelMeasurement(kernel: "copy (bandwidth reference)", shape: "\(n) floats", threads: t,
                                     unit: "GB/s", value: copy, milliseconds: copySec * 1e3)]
        func measure(_ name: String, streams: Int, _ body: () -> Void) {
            let sec = BenchmarkTimer.best(body)
            let gbs = Double(streams) * bytes / sec / 1e9
            out.append(KernelMeasurement(kernel: name, shape: "\(n) floats", threads: t, unit: "GB/s", value: gbs,
                                         milliseconds: sec * 1e3, reference: "copy, \(t) thread(s)", ratio: gbs / copy))
        }
        measure("add", streams: 3) { _ = a + b }
        measure("mul", streams: 3) { _ = a * b }
        measure("scale", streams: 2) { _ = a.scaled(by: 0.5) }
        measure("silu", streams: 2) { _ = a.silu() }
        measure("gelu tanh", streams: 2) { _ = a.gelu(.tanh) }
        measure("swiglu", streams: 3) { _ = swiglu(gate: a, up: b) }
        return out
    }

    static func fused(threads t: Int) -> [KernelMeasurement] {
        var out: [KernelMeasurement] = []
        func bandwidth(_ name: String, _ shape: String, bytes: Double, _ body: () -> Void) {
            let sec = BenchmarkTimer.best(body)
            out.append(KernelMeasurement(kernel: name, shape: shape, threads: t, unit: "GB/s",
                                         value: bytes / sec / 1e9, milliseconds: sec * 1e3))
        }
        // RMSNorm [1024, 576]: fwd reads x writes y; bwd reads x, g writes dx (weights negligible).
        do {
            let x = Tensor.randomNormal([rows, hidden], seed: 9).requiringGrad()
            let w = Tensor.filled([hidden], value: 1).requiringGrad()
            let g = Tensor.randomNormal([rows, hidden], seed: 10)
            bandwidth("rmsNorm fwd+bwd", "\(rows)x\(hidden)", bytes: Double(5 * x.count * 4)) {
                x.zeroGrad(); w.zeroGrad()
                rmsNorm(x, weight: w, eps: 1e-5).backward(seed: g)
            }
        }
        // SwiGLU [1024, 1536]: fwd 2 reads + 1 write; bwd 3 reads + 2 writes.
        do {
            let a = Tensor.randomNormal([rows, 1536], seed: 11).requiringGrad()
            let b = Tensor.randomNormal([rows, 1536], seed: 12).requiringGrad()
            let g = Tensor.randomNormal([rows, 1536], seed: 13)
            bandwidth("swiglu fwd+bwd", "\(rows)x1536", bytes: Double(8 * a.count * 4)) {
                a.zeroGrad(); b.zeroGrad()
                swiglu(gate: a, up: b).backward(seed: g)
            }
        }
        // Softmax over attention-score rows [4·9·256, 256]: fwd 1 read + 1 write; bwd 2 reads + 1 write.
        do {
            let x = Tensor.randomNormal([4 * 9 * 256, 256], seed: 14).requiringGrad()
            let g = Tensor.randomNormal(x.shape, seed: 15)
            bandwidth("softmax fwd+bwd", "\(4 * 9 * 256)x256", bytes: Double(5 * x.count * 4)) {
                x.zeroGrad()
                x.softmax().backward(seed: g)
            }
        }
        // Causal GQA attention, batch 4 × 256, 9 query / 3 KV heads of 64: 12·T²·D FLOPs per (batch, head).
        do {
            let (bt, tt, hq, hkv, d) = (4, 256, 9, 3, 64)
            let q = Tensor.randomNormal([bt, tt, hq, d], seed: 16).requiringGrad()
            let k = Tensor.randomNormal([bt, tt, hkv, d], seed: 17).requiringGrad()
            let v = Tensor.randomNormal([bt, tt, hkv, d], seed: 18).requiringGrad()
            let g = Tensor.randomNormal(q.shape, seed: 19)
            let sec = BenchmarkTimer.best {
                q.zeroGrad(); k.zeroGrad(); v.zeroGrad()
                scaledDotProductAttention(query: q, key: k, value: v).backward(seed: g)
            }
            let flops = 12 * Double(bt * hq * tt * tt * d)
            out.append(KernelMeasurement(kernel: "attention fwd+bwd", shape: "b\(bt) t\(tt) hq\(hq) hkv\(hkv) d\(d)",
                                         threads: t, unit: "GFLOP/s", value: flops / sec / 1e9,
                                         milliseconds: sec * 1e3))
        }
        // Chunked cross-entropy with the frozen tied head: 3 GEMMs (logits, recomputed logits, dHidden).
        do {
            let v = widths[2]
            let h = Tensor.randomNormal([rows, hidden], seed: 20).requiringGrad()
            let w = Tensor.randomNormal([v, hidden], std: 0.02, seed: 21)
            var rng = SplitMix64(seed: 22)
            let targets = (0..<rows).map { _ in Int32(rng.next() % UInt64(v)) }
            let raw = RawGEMMs([(rows, v, hidden, false, true), (rows, v, hidden, false, true),
                                (rows, hidden, v, false, false)])
            let (sec, rawSec) = BenchmarkTimer.bestInterleaved({
                h.zeroGrad()
                linearCrossEntropy(hidden: h, weight: w, targets: targets).backward()
            }, raw.run)
            out.append(KernelMeasurement(kernel: "linearCrossEntropy fwd+bwd (frozen head)",
                                         shape: "\(rows)x\(hidden) · \(v)x\(hidden)ᵀ", threads: t, unit: "GFLOP/s",
                                         value: 3 * 2 * Double(rows * v * hidden) / sec / 1e9,
                                         milliseconds: sec * 1e3, reference: "3 raw sgemm", ratio: rawSec / sec))
        }
        return out
    }
}

/// Operands for a list of raw GEMMs `(m, n, k, transA, transB)`, run back to back by ``run()``.
final class RawGEMMs {
    let shapes: [(Int, Int, Int, Bool, Bool)]
    let operands: [(Tensor, Tensor, Tensor)]

    init(_ shapes: [(Int, Int, Int, Bool, Bool)]) {
        self.shapes = shapes
        operands = shapes.map { m, n, k, _, _ in
            (Tensor.randomNormal([m * k], seed: 5), Tensor.randomNormal([k * n], seed: 6),
             Tensor(uninitializedShape: [m * n]))
        }
    }

    func run() {
        for ((m, n, k, ta, tb), (a, b, c)) in zip(shapes, operands) {
            Kernels.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.base, lda: ta ? m : k, b: b.base,
                         ldb: tb ? k : n, c: c.base, ldc: n)
        }
    }
}
