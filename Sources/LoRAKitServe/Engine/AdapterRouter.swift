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
final class AdapterRouter: LinearAdapter, @unchecked Sendable {
    /// `y[rows] += s · (x[rows] · Aᵀ) · Bᵀ` with two BLAS calls and no tensors (the SGMV of one segment).
    static func addLowRank(_ u: (a: Tensor, b: Tensor, scale: Float), x: Tensor, y: Tensor, rows: Range<Int>) {
        let (rank, inF, outF) = (u.a.shape[0], u.a.shape[1], u.b.shape[0])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * rank)
        defer { scratch.deallocate() }
        x.withUnsafeBufferPointer { xb in
            u.a.withUnsafeBufferPointer { ab in
                Kernels.gemm(transA: false, transB: true, m: rows.count, n: rank, k: inF,
                             a: xb.baseAddress! + rows.lowerBound * inF, lda: inF, b: ab.baseAddress!, ldb: inF,
                             c: scratch, ldc: rank)
            }
        }
        y.withUnsafeSharedMutableBufferPointer { yb in
            u.b.withUnsafeBufferPointer { bb in
                Kernels.gemm(transA: false, transB: true, m: rows.count, n: outF, k: rank, alpha: u.scale,
                             a: scratch, lda: rank, b: bb.baseAddress!, ldb: rank, beta: 1,
                             c: yb.baseAddress! + rows.lowerBound * outF, ldc: outF)
            }
        }
    }


    let plan: RowPlan

    init(plan: RowPlan) { self.plan = plan }

    func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor {
        guard !plan.segments.isEmpty else { return baseOutput }
        let (inF, outF) = (base.inFeatures, base.outFeatures)
        let x2 = x.reshaped([-1, inF]), y2 = baseOutput.reshaped([-1, outF])
        for segment in plan.segments {
            guard let variant = segment.adapter.variants[base.name] else { continue }
            if let update = variant as? LowRankUpdate {
                Self.addLowRank(update.lowRankUpdate, x: x2, y: y2, rows: segment.rows)
                continue
            }
            let adapted = variant.forward(x2.rows(segment.rows), baseOutput: y2.rows(segment.rows), base: base)
            // Write the adapted rows back in place: `baseOutput` is the projection's fresh result.
            adapted.withUnsafeBufferPointer { src in
                y2.withUnsafeSharedMutableBufferPointer { dst in
                    (dst.baseAddress! + segment.rows.lowerBound * outF).update(from: src.baseAddress!, count: src.count)
                }
            }
        }
        return baseOutput
    }
}
