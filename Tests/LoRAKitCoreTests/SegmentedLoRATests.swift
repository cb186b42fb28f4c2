import Testing
@testable import LoRAKitCore

/// The segmented LoRA kernel against `y + s · (x Aᵀ) Bᵀ` in `Double`, segment by segment; rows in no segment
/// (base-model sequences) must not change. bf16 weights are checked against the same sum over the bf16-rounded
/// factors (widening is exact, so the tolerance is the same). Tolerance: 1e-5 of `Σ|terms|` (only the fp32 summation
/// order differs).
@Suite struct SegmentedLoRATests {
    /// A batch layout: `segments` in row order, each `(rows, rank)` with `rank == nil` for rows of no adapter.
    struct Layout: CustomTestStringConvertible, Sendable {
        let inFeatures: Int
        let outFeatures: Int
        let segments: [(rows: Int, rank: Int?)]
        var testDescription: String { "\(inFeatures)→\(outFeatures) \(segments.map { "\($0.rows)×r\($0.rank ?? 0)" })" }
    }

    static let layouts: [Layout] = [
        // Decode on 8 adapters (BGMV), the serving benchmark's shapes; threads split both passes.
        Layout(inFeatures: 576, outFeatures: 1536, segments: Array(repeating: (1, 16), count: 8)),
        Layout(inFeatures: 1536, outFeatures: 576, segments: [(1, 16), (2, 16), (3, 16), (4, 16), (5, 16), (1, 64)]),
        // Odd sizes (masked tails), ranks 1/8/64, base rows between and around segments.
        Layout(inFeatures: 33, outFeatures: 17, segments: [(3, 1), (2, nil), (5, 8), (1, 64)]),
        Layout(inFeatures: 1537, outFeatures: 1531, segments: [(1, nil), (2, 16), (4, 64), (1, nil), (1, 8), (5, 1)]),
        Layout(inFeatures: 7, outFeatures: 5, segments: [(1, 1)]),
        Layout(inFeatures: 100, outFeatures: 300, segments: [(4, nil), (5, 16), (3, nil)]),
        // A prefill chunk: one long segment (rows in blocks of 4 plus a remainder).
        Layout(inFeatures: 65, outFeatures: 47, segments: [(2, 8), (23, 16), (1, 1)]),
    ]

    /// (portable kernels, weight precision)
    static let paths: [(Bool, SegmentedLoRA.Precision)] = [(false, .float32), (true, .float32), (false, .bfloat16),
                                                           (true, .bfloat16)]

    @Test(arguments: layouts, paths)
    func matchesReference(layout: Layout, path: (portable: Bool, precision: SegmentedLoRA.Precision)) {
        let (inF, outF) = (layout.inFeatures, layout.outFeatures)
        let n = layout.segments.reduce(0) { $0 + $1.rows }
        let x = Tensor.randomNormal([n, inF], seed: 1)
        let y = Tensor.randomNormal([n, outF], seed: 2)
        let before = y.scalars
        var weights: [(rows: Range<Int>, a: Tensor, b: Tensor, scale: Float)] = []
        var row = 0
        for (i, segment) in layout.segments.enumerated() {
            defer { row += segment.rows }
            guard let r = segment.rank else { continue }
            let scale = [2, 0.5, -1.25, 1 / Float(r).squareRoot()][i % 4]
            weights.append((row..<(row + segment.rows), Tensor.randomNormal([r, inF], seed: UInt64(10 + i)),
                            Tensor.randomNormal([outF, r], seed: UInt64(50 + i)), scale))
        }
        let prepared = weights.map {
            SegmentedLoRA.Weights(a: $0.a, b: $0.b, scale: $0.scale, precision: path.precision)
        }
        if path.precision == .bfloat16 {  // the reference multiplies the factors the kernel sees
            weights = weights.map { ($0.rows, BF16Matrix($0.a).floats(), BF16Matrix($0.b).floats(), $0.scale) }
        }
        let lora = SegmentedLoRA()
        for _ in 0..<2 {  // the second pass reuses the grown buffers
            y.withUnsafeSharedMutableBufferPointer { _ = $0.update(from: before) }
            lora.removeAll()
            for (w, p) in zip(weights, prepared) { lora.append(rows: w.rows, p) }
            lora.apply(x: x, y: y, portable: path.portable)
        }
        var expected = before.map(Double.init), magnitude = before.map { abs(Double($0)) }
        let xs = x.scalars
        for w in weights {
            let (a, b, r) = (w.a.scalars, w.b.scalars, w.a.shape[0])
            for i in w.rows {
                let products = (0..<r).map { j in (0..<inF).map { Double(xs[i * inF + $0]) * Double(a[j * inF + $0]) } }
                let t = products.map { $0.reduce(0, +) }, tAbs = products.map { $0.reduce(0) { $0 + abs($1) } }
                for o in 0..<outF {
                    for j in 0..<r {
                        expected[i * outF + o] += Double(w.scale) * t[j] * Double(b[o * r + j])
                        magnitude[i * outF + o] += abs(Double(w.scale) * Double(b[o * r + j])) * tAbs[j]
                    }
                }
            }
        }
        let got = y.scalars
        let worst = got.indices.map { abs(Double(got[$0]) - expected[$0]) / (1e-5 * magnitude[$0] + 1e-30) }.max() ?? 0
        #expect(worst <= 1, "error is \(worst)× the tolerance")
        let inSegments = Set(weights.flatMap { Array($0.rows) })
        for i in 0..<n where !inSegments.contains(i) {
            #expect(Array(got[(i * outF)..<((i + 1) * outF)]) == Array(before[(i * outF)..<((i + 1) * outF)]),
                    "row \(i) belongs to no adapter and changed")
        }
    }

    @Test func emptyBatchLeavesOutputAlone() {
        let y = Tensor.randomNormal([3, 4], seed: 3), before = y.scalars
        let lora = SegmentedLoRA()
        lora.apply(x: Tensor.randomNormal([3, 5], seed: 4), y: y)
        #expect(lora.isEmpty && y.scalars == before)
    }
}
