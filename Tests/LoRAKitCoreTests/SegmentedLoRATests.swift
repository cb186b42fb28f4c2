import Testing
@testable import LoRAKitCore

/// The segmented LoRA kernel against `y + s · (x Aᵀ) Bᵀ` in `Double`, segment by segment; rows in no segment
/// (base-model sequences) must not change. bf16 and int8 weights are checked against the same sum over the factors the
/// kernel multiplies (bf16-rounded, int8-dequantized: widening is exact, so the tolerance is the same). Tolerance: 1e-5 of `Σ|terms|` (only the fp32 summation
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
    static let paths: [(Bool, SegmentedLoRA.Precision)] = SegmentedLoRA.Precision.allCases.flatMap { [(false, $0), (true, $0)] }

    /// Random factors for `layout`'s segments, as the kernel gets them and (bf16: rounded, int8: dequantized) as the
    /// reference uses them.
    static func factors(_ layout: Layout, precision: SegmentedLoRA.Precision)
        -> (prepared: [(Range<Int>, SegmentedLoRA.Weights)], reference: [Factors]) {
        var weights: [Factors] = []
        var row = 0
        for (i, segment) in layout.segments.enumerated() {
            defer { row += segment.rows }
            guard let r = segment.rank else { continue }
            let scale = [2, 0.5, -1.25, 1 / Float(r).squareRoot()][i % 4]
            weights.append((row..<(row + segment.rows), Tensor.randomNormal([r, layout.inFeatures], seed: UInt64(10 + i)),
                            Tensor.randomNormal([layout.outFeatures, r], seed: UInt64(50 + i)), scale))
        }
        let prepared = weights.map {
            ($0.rows, SegmentedLoRA.Weights(a: $0.a, b: $0.b, scale: $0.scale, precision: precision))
        }
        weights = zip(weights, prepared).map { w, p in  // the reference multiplies the factors the kernel sees
            let (a, b) = p.1.effectiveFactors()
            return (w.rows, a, b, w.scale)
        }
        return (prepared, weights)
    }

    typealias Factors = (rows: Range<Int>, a: Tensor, b: Tensor, scale: Float)

    /// Checks `got` against `start + Σ s · (x Aᵀ) Bᵀ` in `Double` (within 1e-5 of the summed magnitudes), where `start`
    /// and its magnitudes are given per element.
    static func expectLowRankSum(_ got: [Float], start: [Double], magnitude: [Double], x: Tensor, _ weights: [Factors],
                                 outFeatures outF: Int) {
        var expected = start, magnitude = magnitude
        let xs = x.scalars, inF = x.shape[1]
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
        let worst = got.indices.map { abs(Double(got[$0]) - expected[$0]) / (1e-5 * magnitude[$0] + 1e-30) }.max() ?? 0
        #expect(worst <= 1, "error is \(worst)× the tolerance")
    }

    @Test(arguments: layouts, paths)
    func matchesReference(layout: Layout, path: (portable: Bool, precision: SegmentedLoRA.Precision)) {
        let (inF, outF) = (layout.inFeatures, layout.outFeatures)
        let n = layout.segments.reduce(0) { $0 + $1.rows }
        let x = Tensor.randomNormal([n, inF], seed: 1)
        let y = Tensor.randomNormal([n, outF], seed: 2)
        let before = y.scalars
        let (prepared, weights) = Self.factors(layout, precision: path.precision)
        let lora = SegmentedLoRA()
        for _ in 0..<2 {  // the second pass reuses the grown buffers
            y.withUnsafeSharedMutableBufferPointer { _ = $0.update(from: before) }
            lora.removeAll()
            for (rows, p) in prepared { lora.append(rows: rows, p) }
            withExtendedLifetime(prepared) { lora.apply(x: x, y: y, portable: path.portable) }  // the table's pointees
        }
        let got = y.scalars
        Self.expectLowRankSum(got, start: before.map(Double.init), magnitude: before.map { abs(Double($0)) }, x: x,
                              weights, outFeatures: outF)
        let inSegments = Set(weights.flatMap { Array($0.rows) })
        for i in 0..<n where !inSegments.contains(i) {
            #expect(Array(got[(i * outF)..<((i + 1) * outF)]) == Array(before[(i * outF)..<((i + 1) * outF)]),
                    "row \(i) belongs to no adapter and changed")
        }
    }

    /// Decode batches (≤ 8 rows) for the fused path: the fast paths (every row rank 16, every row rank 8), odd sizes,
    /// ranks 1/8/20 (a vector and a scalar tail)/24 (a vector and a half)/64, base rows.
    static let fusedLayouts: [Layout] = [
        Layout(inFeatures: 576, outFeatures: 1536, segments: Array(repeating: (1, 16), count: 8)),
        Layout(inFeatures: 1536, outFeatures: 576, segments: Array(repeating: (1, 8), count: 8)),
        Layout(inFeatures: 64, outFeatures: 40, segments: [(1, 8), (2, 24), (1, nil), (1, 8)]),
        Layout(inFeatures: 33, outFeatures: 17, segments: [(3, 1), (2, nil), (2, 8), (1, 20)]),
        Layout(inFeatures: 1537, outFeatures: 531, segments: [(1, nil), (2, 16), (4, 64), (1, nil)]),
        Layout(inFeatures: 7, outFeatures: 5, segments: [(1, 1)]),
        Layout(inFeatures: 100, outFeatures: 300, segments: [(2, nil), (5, 16), (1, nil)]),
    ]

    /// ``SegmentedLoRA/project(x:weight:bias:)`` — the base product and the adapters in one pass — against the same sum
    /// in `Double`; rows of no adapter must equal ``linear(_:weight:bias:)``'s exactly (base-model requests in a mixed
    /// batch keep the text they get alone).
    @Test(arguments: fusedLayouts, SegmentedLoRA.Precision.allCases.flatMap { [($0, false), ($0, true)] })
    func fusedProjectionMatchesReference(layout: Layout, options: (precision: SegmentedLoRA.Precision, withBias: Bool)) {
        let (precision, withBias) = options
        let (inF, outF) = (layout.inFeatures, layout.outFeatures)
        let n = layout.segments.reduce(0) { $0 + $1.rows }
        let x = Tensor.randomNormal([n, inF], seed: 1)
        let weight = Tensor.randomNormal([outF, inF], seed: 2)
        let bias = withBias ? Tensor.randomNormal([outF], seed: 3) : nil
        let (prepared, weights) = Self.factors(layout, precision: precision)
        let lora = SegmentedLoRA()
        for (rows, p) in prepared { lora.append(rows: rows, p) }
        let got = withExtendedLifetime(prepared) { lora.project(x: x, weight: weight, bias: bias).scalars }
        let (xs, ws, bs) = (x.scalars, weight.scalars, bias?.scalars)
        var start = [Double](), magnitude = [Double]()
        for i in 0..<n {
            for o in 0..<outF {
                let terms = (0..<inF).map { Double(xs[i * inF + $0]) * Double(ws[o * inF + $0]) } + [Double(bs?[o] ?? 0)]
                start.append(terms.reduce(0, +))
                magnitude.append(terms.reduce(0) { $0 + abs($1) })
            }
        }
        Self.expectLowRankSum(got, start: start, magnitude: magnitude, x: x, weights, outFeatures: outF)
        let base = linear(x, weight: weight, bias: bias).scalars
        let inSegments = Set(weights.flatMap { Array($0.rows) })
        for i in 0..<n where !inSegments.contains(i) {
            #expect(Array(got[(i * outF)..<((i + 1) * outF)]) == Array(base[(i * outF)..<((i + 1) * outF)]),
                    "row \(i) belongs to no adapter and differs from the plain projection")
        }
    }

    /// A request's row gets the same bits alone, in a batch where every row has an adapter of its rank (16 or 8: the
    /// kernel's fast paths) and in one with a base-model row or another rank (the general path): mixed batches do not
    /// change text.
    @Test(arguments: SegmentedLoRA.Precision.allCases, [576, 1536])
    func fusedRowsAreBatchInvariant(precision: SegmentedLoRA.Precision, inFeatures: Int) {
        let outF = 80
        let x = Tensor.randomNormal([8, inFeatures], seed: 31), weight = Tensor.randomNormal([outF, inFeatures], seed: 32)
        let adapters: [SegmentedLoRA.Weights] = (0..<8).map { i in
            let rank = i >= 5 ? 8 : 16
            let a = Tensor.randomNormal([rank, inFeatures], seed: UInt64(40 + i))
            let b = Tensor.randomNormal([outF, rank], seed: UInt64(60 + i))
            return SegmentedLoRA.Weights(a: a, b: b, scale: 0.5, precision: precision)
        }
        func project(_ rows: [Int], adapter: (Int) -> SegmentedLoRA.Weights?) -> [[Float]] {
            let lora = SegmentedLoRA()
            for (r, i) in rows.enumerated() { if let w = adapter(i) { lora.append(rows: r..<(r + 1), w) } }
            let picked: [Float] = rows.flatMap { x.rows($0..<($0 + 1)).scalars }
            let y = lora.project(x: Tensor(picked, shape: [rows.count, inFeatures]), weight: weight, bias: nil).scalars
            return rows.indices.map { Array(y[($0 * outF)..<(($0 + 1) * outF)]) }
        }
        let fast = project(Array(0..<5)) { adapters[$0] } + project(Array(5..<8)) { adapters[$0] }  // one rank each
        let withBase = project(Array(0..<8)) { $0 == 7 ? nil : adapters[$0] }
        let withOtherRank = project(Array(0..<8)) { adapters[$0] }
        for i in 0..<8 {
            let alone: [Float] = project([i]) { adapters[$0] }[0]
            let same = fast[i] == alone && (i == 7 || withBase[i] == alone) && withOtherRank[i] == alone
            #expect(same,
                    "row \(i) (\(precision), in \(inFeatures)) depends on its batch")
        }
    }

    @Test func emptyBatchLeavesOutputAlone() {
        let y = Tensor.randomNormal([3, 4], seed: 3), before = y.scalars
        let lora = SegmentedLoRA()
        lora.apply(x: Tensor.randomNormal([3, 5], seed: 4), y: y)
        #expect(lora.isEmpty && y.scalars == before)
    }
}
