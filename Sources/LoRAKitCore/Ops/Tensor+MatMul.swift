/// `op(a) · op(b)`, through BLAS with transpose flags (never a transposing copy).
///
/// - Parameters:
///   - a: `[..., M, K]`, or `[..., K, M]` with `transposeA`.
///   - b: `[K, N]` (shared by every batch of `a`), or batched `[..., K, N]` with the same leading dims as `a`;
///     `[N, K]` / `[..., N, K]` with `transposeB`.
/// - Returns: `[..., M, N]`.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2, got \(a.shape) and \(b.shape)")
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape) × \(b.shape)")
    let batchDims = Array(a.shape.dropLast(2))
    let batch = batchDims.reduce(1, *)
    let sharedB = b.rank == 2
    precondition(sharedB || Array(b.shape.dropLast(2)) == batchDims,
                 "matmul batch dimensions differ: \(a.shape) × \(b.shape)")
    let out = Tensor(uninitializedShape: batchDims + [m, n])
    let (pa, pb, pc) = (a.base, b.base, out.base)
    if sharedB && !transposeA {
        Kernels.gemm(transA: false, transB: transposeB, m: batch * m, n: n, k: k, a: pa, lda: ac, b: pb, ldb: bc,
                     c: pc, ldc: n)
    } else {
        for i in 0..<batch {
            Kernels.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: pa + i * ar * ac, lda: ac,
                         b: sharedB ? pb : pb + i * br * bc, ldb: bc, c: pc + i * m * n, ldc: n)
        }
    }
    return Tensor.record("matmul", out, inputs: [a, b]) { g in
        let needA = a.requiresGrad, needB = b.requiresGrad
        var da: Tensor?, db: Tensor?
        let pg = g.base
        if needA {
            let t = Tensor(uninitializedShape: a.shape)
            for i in 0..<batch {
                let gi = pg + i * m * n, bi = sharedB ? pb : pb + i * br * bc, ai = t.base + i * ar * ac
                if !transposeA {  // dA = dC · op(B)ᵀ  [M, K]
                    Kernels.gemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: gi, lda: n, b: bi,
                                 ldb: bc, c: ai, ldc: ac)
                } else {  // dA [K, M] = op(B) · dCᵀ
                    Kernels.gemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: bi, lda: bc, b: gi,
                                 ldb: n, c: ai, ldc: ac)
                }
            }
            da = t
        }
        if needB {
            let t = Tensor(uninitializedShape: b.shape)
            for i in 0..<batch {
                let gi = pg + i * m * n, ai = pa + i * ar * ac, bi = sharedB ? t.base : t.base + i * br * bc
                let beta: Float = sharedB && i > 0 ? 1 : 0
                if !transposeB {  // dB [K, N] = op(A)ᵀ · dC
                    Kernels.gemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: ai, lda: ac, b: gi,
                                 ldb: n, beta: beta, c: bi, ldc: bc)
                } else {  // dB [N, K] = dCᵀ · op(A)
                    Kernels.gemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: gi, lda: n, b: ai,
                                 ldb: ac, beta: beta, c: bi, ldc: bc)
                }
            }
            db = t
        }
        return [da, db]
    }
}

/// `x · weightᵀ + bias`, PyTorch's `nn.Linear`.
///
/// A one-row `x` runs as a matrix–vector product (decode). In backward, the weight gradient GEMM runs only when
/// `weight` requires grad, the input gradient only when `x` does.
/// - Parameters:
///   - x: `[..., in]`.
///   - weight: `[out, in]`.
///   - bias: `[out]` or `nil`.
/// - Returns: `[..., out]`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    precondition(x.shape.last == inF, "linear input \(x.shape) does not end in \(inF)")
    let rows = x.count / max(inF, 1)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    let (px, pw, py) = (x.base, weight.base, out.base)
    var beta: Float = 0
    if let bias {
        precondition(bias.shape == [outF], "linear bias must be [\(outF)], got \(bias.shape)")
        for r in 0..<rows { (py + r * outF).update(from: bias.base, count: outF) }
        beta = 1
    }
    Kernels.gemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: px, lda: inF, b: pw, ldb: inF,
                 beta: beta, c: py, ldc: outF)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Tensor.record("linear", out, inputs: inputs) { g in
        let pg = g.base
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if x.requiresGrad {  // dX [rows, in] = dY · W
            let t = Tensor(uninitializedShape: x.shape)
            Kernels.gemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: pg, lda: outF, b: pw, ldb: inF,
                         c: t.base, ldc: inF)
            dx = t
        }
        if weight.requiresGrad {  // dW [out, in] = dYᵀ · X
            let t = Tensor(uninitializedShape: weight.shape)
            Kernels.gemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: pg, lda: outF, b: px, ldb: inF,
                         c: t.base, ldc: inF)
            dw = t
        }
        if let bias, bias.requiresGrad { db = g.reshaped([rows, outF]).sumRows() }
        return bias == nil ? [dx, dw] : [dx, dw, db]
    }
}
