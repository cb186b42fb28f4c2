extension KernelBenchmarks {
    /// The adapter work of one serving decode step: `adapters` rank-16 all-linear LoRAs, one row each, through the
    /// 7 projections of every SmolLM2-135M layer (each layer its own weights, so nothing stays in cache), with
    /// ``SegmentedLoRA`` — timed interleaved with the same products as two GEMMs per segment.
    static func segmentedLoRA(threads t: Int, adapters: Int = 8, rank: Int = 16,
                              layers: Int = 30) -> [KernelMeasurement] {
        let intermediate = 1536, kv = 192
        let projections = [(hidden, hidden), (hidden, kv), (hidden, kv), (hidden, hidden), (hidden, intermediate),
                           (hidden, intermediate), (intermediate, hidden)]  // (in, out): q k v o gate up down
        let weights = (0..<layers).map { layer in
            projections.enumerated().map { p, shape in
                (0..<adapters).map { i in
                    let seed = UInt64(((layer * 7 + p) * adapters + i) * 2 + 100)
                    return SegmentedLoRA.Weights(a: Tensor.randomNormal([rank, shape.0], std: 0.05, seed: seed),
                                                 b: Tensor.randomNormal([shape.1, rank], std: 0.05, seed: seed + 1),
                                                 scale: 1)
                }
            }
        }
        let xs = projections.map { Tensor.randomNormal([adapters, $0.0], seed: 40) }
        let ys = projections.map { Tensor.zeros([adapters, $0.1]) }
        let lora = SegmentedLoRA()
        let scratch = Tensor(uninitializedShape: [rank])
        let (fused, perSegment) = BenchmarkTimer.bestInterleaved(rounds: 5, {
            for layer in weights {
                for (p, segments) in layer.enumerated() {
                    lora.removeAll()
                    for (i, w) in segments.enumerated() { lora.append(rows: i..<(i + 1), w) }
                    lora.apply(x: xs[p], y: ys[p])
                }
            }
        }, {
            for layer in weights {
                for (p, segments) in layer.enumerated() {
                    for (i, w) in segments.enumerated() {
                        let (inF, outF) = (w.inFeatures, w.outFeatures)
                        Kernels.gemm(transA: false, transB: true, m: 1, n: rank, k: inF, a: xs[p].base + i * inF,
                                     lda: inF, b: w.a.base, ldb: inF, c: scratch.base, ldc: rank)
                        Kernels.gemm(transA: false, transB: false, m: 1, n: outF, k: rank, alpha: w.scale,
                                     a: scratch.base, lda: rank, b: w.bT.base, ldb: outF, beta: 1,
                                     c: ys[p].base + i * outF, ldc: outF)
                    }
                }
            }
        })
        let bytes = Double(weights.joined().joined().reduce(0) { $0 + $1.rank * ($1.inFeatures + $1.outFeatures) } * 4)
        return [KernelMeasurement(kernel: "segmented LoRA decode step (\(adapters) adapters × 1 row)",
                                  shape: "\(layers) layers × 7 projections, rank \(rank)", threads: t, unit: "GB/s",
                                  value: bytes / fused / 1e9, milliseconds: fused * 1e3,
                                  reference: "2 GEMMs per segment", ratio: perSegment / fused)]
    }
}
