import CBLAS

/// `x · Wᵀ + bias + scale · (u · Aᵀ) · Bᵀ` — a frozen projection with one LoRA on it, `u` being `x` or `x` after
/// dropout — as one autograd node.
///
/// The same products as `linear(x, W) + linear(linear(u, A) · scale, B)`, with less memory traffic: the low-rank term
/// is added into the base product's buffer (a GEMM with β = 1) and, in backward, `scale · dt · A` into the base
/// input gradient the same way, so neither makes a `[rows, out]` / `[rows, in]` tensor of its own or an
/// elementwise pass to sum it. Per projection and training step that is two large allocations and two passes fewer
/// in each direction (the chain recorded four nodes).
///
/// Backward: `dt = dY · B`, `dB = dYᵀ · t` with `t = scale · u · Aᵀ` (kept from forward), `dA = scale · dtᵀ · u`,
/// `dX = dY · W (+ scale · dt · A when u is x)`, `dU = scale · dt · A` otherwise; gradients only for inputs that
/// record them. The weight and bias are frozen (LoRA training); the caller checks it.
///
/// Unrecorded decode rows (at most ``SegmentedLoRA/fusedRows``, fp32 weight, no dropout: generation with an unmerged
/// adapter) run the serving engine's fused kernel (`lk_lora_fused`) instead: W streams once with the low-rank term
/// folded into each output's sum.
/// - Parameters:
///   - x: `[..., in]`.
///   - weight: `[out, in]`, not requiring grad.
///   - bias: `[out]` or `nil`, not requiring grad.
///   - loraInput: `u`, the shape of `x` (pass `x` itself when there is no dropout).
///   - a: `[r, in]`.
///   - b: `[out, r]`.
///   - scale: LoRA's scaling (times the adapter's weight).
/// - Returns: `[..., out]`.
public func linearWithLowRank(_ x: Tensor, weight: ProjectionWeight, bias: Tensor?, loraInput u: Tensor, a: Tensor,
                              b: Tensor, scale: Float) -> Tensor {
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    let r = a.shape[0]
    precondition(x.shape.last == inF && u.shape == x.shape && a.shape == [r, inF] && b.shape == [outF, r],
                 "linearWithLowRank: x \(x.shape), u \(u.shape), W \(weight.shape), A \(a.shape), B \(b.shape)")
    precondition(weight.trainable == nil && bias?.requiresGrad != true, "linearWithLowRank needs a frozen W and bias")
    let rows = x.count / max(inF, 1)
    let y = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    let shared = u.sharesStorage(with: x)
    if case .float32(let w) = weight, shared, rows <= SegmentedLoRA.fusedRows,
       !Tensor.isRecording(x, a, b) {
        // Decode with an unmerged adapter: the serving engine's fused kernel, one segment over every row — the base
        // product streams W once with the low-rank term folded into each output's sum (no BLAS calls, no second pass).
        let t = UnsafeMutablePointer<Float>.allocate(capacity: rows * r)
        defer { t.deallocate() }
        var segment = lk_lora_segment(row0: 0, rows: rows, rank: r, a: UnsafeRawPointer(a.base), bt: nil,
                                      b: UnsafeRawPointer(b.base), dtype: Int32(LK_LORA_F32), scale: scale,
                                      rank_scale: nil, t: t)
        lk_lora_fused(w.base, bias.map { UnsafePointer($0.base) }, x.base, rows, inF, y.base, outF, &segment, 1)
        return withExtendedLifetime((x, w, a, b, bias)) { y }
    }
    weight.product(x.base, rows: rows, from: 0, count: outF, into: y.base)
    if let bias {
        precondition(bias.shape == [outF], "linear bias must be [\(outF)], got \(bias.shape)")
        let (py, pb) = (y.base, bias.base)
        for i in 0..<rows { Kernels.addInPlace(py + i * outF, pb, outF) }
    }
    let t = Tensor(uninitializedShape: [rows, r])
    Kernels.gemm(transA: false, transB: true, m: rows, n: r, k: inF, alpha: scale, a: u.base, lda: inF, b: a.base,
                 ldb: inF, c: t.base, ldc: r)
    Kernels.gemm(transA: false, transB: true, m: rows, n: outF, k: r, a: t.base, lda: r, b: b.base, ldb: r, beta: 1,
                 c: y.base, ldc: outF)
    let inputs = shared ? [x, a, b] : [x, u, a, b]
    return Tensor.record("linearWithLowRank", y, inputs: inputs) { g in
        let pg = g.base
        let dt = Tensor(uninitializedShape: [rows, r])
        Kernels.gemm(transA: false, transB: false, m: rows, n: r, k: outF, a: pg, lda: outF, b: b.base, ldb: r,
                     c: dt.base, ldc: r)
        var dx: Tensor?, du: Tensor?, da: Tensor?, db: Tensor?
        if b.requiresGrad {  // dB [out, r] = dYᵀ · t
            let d = Tensor(uninitializedShape: b.shape)
            Kernels.gemm(transA: true, transB: false, m: outF, n: r, k: rows, a: pg, lda: outF, b: t.base, ldb: r,
                         c: d.base, ldc: r)
            db = d
        }
        if a.requiresGrad {  // dA [r, in] = scale · dtᵀ · u
            let d = Tensor(uninitializedShape: a.shape)
            Kernels.gemm(transA: true, transB: false, m: r, n: inF, k: rows, alpha: scale, a: dt.base, lda: r,
                         b: u.base, ldb: inF, c: d.base, ldc: inF)
            da = d
        }
        /// `into = scale · dt · A + beta · into`.
        func addLowRankInputGradient(beta: Float, into d: Tensor) {
            Kernels.gemm(transA: false, transB: false, m: rows, n: inF, k: r, alpha: scale, a: dt.base, lda: r,
                         b: a.base, ldb: inF, beta: beta, c: d.base, ldc: inF)
        }
        if x.requiresGrad {  // dX [rows, in] = dY · W (+ scale · dt · A)
            let d = Tensor(uninitializedShape: x.shape)
            weight.addInputGradient(pg, rows: rows, from: 0, count: outF, beta: 0, into: d.base)
            if shared { addLowRankInputGradient(beta: 1, into: d) }
            dx = d
        }
        if !shared && u.requiresGrad {
            let d = Tensor(uninitializedShape: u.shape)
            addLowRankInputGradient(beta: 0, into: d)
            du = d
        }
        return shared ? [dx, da, db] : [dx, du, da, db]
    }
}
