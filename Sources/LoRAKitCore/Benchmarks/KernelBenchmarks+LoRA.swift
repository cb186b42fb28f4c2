extension KernelBenchmarks {
    /// The adapter work of one serving decode step: `adapters` rank-16 all-linear LoRAs, one row each, through the
    /// 7 projections of every SmolLM2-135M layer (each layer its own weights, so nothing stays in cache), with
    /// ``SegmentedLoRA`` — fp32 timed interleaved with the same products as two GEMMs per segment, and bf16 weights
    /// interleaved with fp32.
    static func segmentedLoRA(threads t: Int, adapters: Int = 8, rank: Int = 16,
                              layers: Int = 30) -> [KernelMeasurement] {
        let factors = loraFactors(adapters: adapters, rank: rank, layers: layers)
        let fp32 = factors.map { $0.map { $0.map { SegmentedLoRA.Weights($0) } } }
        let bf16 = factors.map { $0.map { $0.map { SegmentedLoRA.Weights($0, precision: .bfloat16) } } }
        let projections = servingProjections
        let xs = projections.map { Tensor.randomNormal([adapters, $0.0], seed: 40) }
        let ys = projections.map { Tensor.zeros([adapters, $0.1]) }
        let lora = SegmentedLoRA()
        func segmented(_ weights: [[[SegmentedLoRA.Weights]]]) {
            for layer in weights {
                for (p, segments) in layer.enumerated() {
                    lora.removeAll()
                    for (i, w) in segments.enumerated() { lora.append(rows: i..<(i + 1), w) }
                    lora.apply(x: xs[p], y: ys[p])
                }
            }
        }
        let scratch = Tensor(uninitializedShape: [rank])
        let (fused, perSegment) = BenchmarkTimer.bestInterleaved(rounds: 5, { segmented(fp32) }, {
            for layer in factors {
                for (p, segments) in layer.enumerated() {
                    for (i, f) in segments.enumerated() {
                        let (inF, outF) = (f.a.shape[1], f.b.shape[0])
                        Kernels.gemm(transA: false, transB: true, m: 1, n: rank, k: inF, a: xs[p].base + i * inF,
                                     lda: inF, b: f.a.base, ldb: inF, c: scratch.base, ldc: rank)
                        Kernels.gemm(transA: false, transB: true, m: 1, n: outF, k: rank, alpha: f.scale,
                                     a: scratch.base, lda: rank, b: f.b.base, ldb: rank, beta: 1,
                                     c: ys[p].base + i * outF, ldc: outF)
                    }
                }
            }
        })
        let (half, full) = BenchmarkTimer.bestInterleaved(rounds: 5, { segmented(bf16) }, { segmented(fp32) })
        let elements = Double(fp32.joined().joined().reduce(0) { $0 + $1.rank * ($1.inFeatures + $1.outFeatures) })
        let name = "segmented LoRA decode step (\(adapters) adapters × 1 row)"
        let shape = "\(layers) layers × 7 projections, rank \(rank)"
        return [
            KernelMeasurement(kernel: name, shape: shape, threads: t, unit: "GB/s", value: 4 * elements / fused / 1e9,
                              milliseconds: fused * 1e3, reference: "2 GEMMs per segment", ratio: perSegment / fused),
            KernelMeasurement(kernel: name + ", bf16 weights", shape: shape, threads: t, unit: "GB/s",
                              value: 2 * elements / half / 1e9, milliseconds: half * 1e3,
                              reference: "fp32 weights, time", ratio: full / half),
        ]
    }

    /// The serving decode step's projections of a SmolLM2-135M layer, `(in, out)`: q k v o gate up down.
    static let servingProjections: [(Int, Int)] = [(hidden, hidden), (hidden, 192), (hidden, 192), (hidden, hidden),
                                                   (hidden, 1536), (hidden, 1536), (1536, hidden)]

    /// Random LoRA factors `[layer][projection][adapter]` for ``servingProjections``.
    static func loraFactors(adapters: Int, rank: Int, layers: Int) -> [[[(a: Tensor, b: Tensor, scale: Float)]]] {
        (0..<layers).map { layer in
            servingProjections.enumerated().map { p, shape in
                (0..<adapters).map { i in
                    let seed = UInt64(((layer * 7 + p) * adapters + i) * 2 + 100)
                    return (a: Tensor.randomNormal([rank, shape.0], std: 0.05, seed: seed),
                            b: Tensor.randomNormal([shape.1, rank], std: 0.05, seed: seed + 1), scale: Float(1))
                }
            }
        }
    }

    /// The serving decode step's projections, base weights included: `adapters` rows, one adapter each (factors in
    /// each of `precisions`), through ``SegmentedLoRA/project(x:weight:bias:)`` — the base product with the adapters
    /// fused in — timed interleaved with the same rows through the base weights alone. The time ratio is the
    /// kernel-level bound on `bench serve`'s mixed/base ratio (the weights stream from memory: every layer has its own).
    static func fusedLoRA(threads t: Int, adapters: Int = 8, ranks: [Int] = [16, 8], layers: Int = 30,
                          precisions: [SegmentedLoRA.Precision] = SegmentedLoRA.Precision.allCases) -> [KernelMeasurement] {
        let weights = (0..<layers).map { layer in
            servingProjections.enumerated().map { p, shape in
                Tensor.randomNormal([shape.1, shape.0], std: 0.05, seed: UInt64(9000 + layer * 7 + p))
            }
        }
        let xs = servingProjections.map { Tensor.randomNormal([adapters, $0.0], seed: 41) }
        let lora = SegmentedLoRA()
        let baseBytes = 4 * Double(weights.joined().reduce(0) { $0 + $1.count })
        return ranks.flatMap { rank in
            let raw = loraFactors(adapters: adapters, rank: rank, layers: layers)
            return precisions.map { precision in
                let factors = raw.map { $0.map { $0.map { SegmentedLoRA.Weights($0, precision: precision) } } }
                let (fused, base) = BenchmarkTimer.bestInterleaved(rounds: 5, {
                    for (layer, segments) in zip(weights, factors) {
                        for p in servingProjections.indices {
                            lora.removeAll()
                            for (i, w) in segments[p].enumerated() { lora.append(rows: i..<(i + 1), w) }
                            _ = lora.project(x: xs[p], weight: layer[p], bias: nil)
                        }
                    }
                }, {
                    for layer in weights { for p in servingProjections.indices { _ = linear(xs[p], weight: layer[p]) } }
                })
                let elements = factors.joined().joined().reduce(0) { $0 + $1.rank * ($1.inFeatures + $1.outFeatures) }
                return KernelMeasurement(
                    kernel: "fused decode projections (\(adapters) rows, \(adapters) \(precision.rawValue) adapters)",
                    shape: "\(layers) layers × 7 projections, rank \(rank)", threads: t, unit: "GB/s",
                    value: (baseBytes + Double(precision.bytes * elements)) / fused / 1e9, milliseconds: fused * 1e3,
                    reference: "base weights alone, time", ratio: base / fused)
            }
        }
    }
}
