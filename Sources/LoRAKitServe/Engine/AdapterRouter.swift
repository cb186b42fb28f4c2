import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels

/// Which adapter owns which rows of the current step (set by the engine before each forward pass).
final class RowPlan: @unchecked Sendable {
    struct Segment {
        var rows: Range<Int>
        var adapter: AdapterRegistry.Entry
    }
    /// Adapter segments in row order; rows of base-model sequences are in no segment.
    var segments: [Segment] = []
}

/// The one ``LinearAdapter`` attached to every adaptable projection while serving: it applies each adapter's
/// variant to that adapter's own rows only (segmented, as Punica's SGMV), so sequences for different adapters — and
/// for the base model — share one base GEMM per projection.
///
/// LoRA and rsLoRA segments (``LowRankUpdate``) of a projection run together in one ``SegmentedLoRA`` pass — in a
/// decode step on fp32 weights fused with the base product (``fusedForward(_:base:)``); other variants (DoRA, …) run
/// their own forward on their rows. Used by the engine thread only.
final class AdapterRouter: LinearAdapter, @unchecked Sendable {
    let plan: RowPlan
    private let lowRank = SegmentedLoRA()
    /// Each projection's position in the registry's list (``AdapterRegistry/Entry/lowRank`` is indexed by it).
    private let index: [ObjectIdentifier: Int]

    init(plan: RowPlan, linears: [Linear]) {
        self.plan = plan
        index = Dictionary(uniqueKeysWithValues: linears.enumerated().map { (ObjectIdentifier($1), $0) })
    }

    func fusedForward(_ x: Tensor, base: Linear) -> Tensor? {
        guard !plan.segments.isEmpty, case .float32(let weight) = base.storage,
              x.count <= base.inFeatures * SegmentedLoRA.fusedRows, let p = index[ObjectIdentifier(base)]
        else { return nil }
        lowRank.removeAll()
        for segment in plan.segments {
            if let weights = segment.adapter.lowRank[p] {
                lowRank.append(rows: segment.rows, weights)
            } else if segment.adapter.variants[p] != nil {
                return nil  // another variant on these rows: the two-pass path
            }
        }
        let y = lowRank.project(x: x.reshaped([-1, base.inFeatures]), weight: weight, bias: base.bias)
        return y.reshaped(Array(x.shape.dropLast()) + [base.outFeatures])
    }

    func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor {
        guard !plan.segments.isEmpty, let p = index[ObjectIdentifier(base)] else { return baseOutput }
        let (inF, outF) = (base.inFeatures, base.outFeatures)
        let x2 = x.reshaped([-1, inF]), y2 = baseOutput.reshaped([-1, outF])
        lowRank.removeAll()
        for segment in plan.segments {
            if let weights = segment.adapter.lowRank[p] {
                lowRank.append(rows: segment.rows, weights)
                continue
            }
            guard let variant = segment.adapter.variants[p] else { continue }
            let adapted = variant.forward(x2.rows(segment.rows), baseOutput: y2.rows(segment.rows), base: base)
            // Write the adapted rows back in place: `baseOutput` is the projection's fresh result.
            adapted.withUnsafeBufferPointer { src in
                y2.withUnsafeSharedMutableBufferPointer { dst in
                    (dst.baseAddress! + segment.rows.lowerBound * outF).update(from: src.baseAddress!, count: src.count)
                }
            }
        }
        // `plan.segments` holds every entry (and so every weight the table points into) until this returns.
        lowRank.apply(x: x2, y: y2)
        return baseOutput
    }
}
