/// `x · weightᵀ + bias` with a frozen bf16 weight (see ``BF16Matrix``): the products accumulate in `Float`.
///
/// Up to ``Kernels/skinnyRowsBF16`` rows (decode) `x` stays `Float` and the weights are widened as they stream; more
/// rows run the bf16 GEMM, which rounds `x` to bf16 first (relative error per product ≈ 2⁻⁹, as any bf16 GEMM).
/// The weight is frozen: backward returns the input gradient `dX = dY · W` (the same bf16 GEMM, not transposed)
/// and the bias gradient, never a weight gradient.
/// - Parameters:
///   - x: `[..., in]`.
///   - weight: `[out, in]`.
///   - bias: `[out]` or `nil`.
/// - Returns: `[..., out]`.
public func linear(_ x: Tensor, weight: BF16Matrix, bias: Tensor? = nil) -> Tensor {
    let (outF, inF) = (weight.rows, weight.columns)
    precondition(x.shape.last == inF, "linear input \(x.shape) does not end in \(inF)")
    let rows = x.count / max(inF, 1)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    let (px, py) = (x.base, out.base)
    var beta: Float = 0
    if let bias {
        precondition(bias.shape == [outF], "linear bias must be [\(outF)], got \(bias.shape)")
        for r in 0..<rows { (py + r * outF).update(from: bias.base, count: outF) }
        beta = 1
    }
    Kernels.gemmBF16(transB: true, m: rows, n: outF, k: inF, a: px, lda: inF, b: weight.bits, ldb: inF, beta: beta,
                     c: py, ldc: outF)
    let inputs = bias.map { [x, $0] } ?? [x]
    return Tensor.record("linearBF16", out, inputs: inputs) { g in
        var dx: Tensor?, db: Tensor?
        if x.requiresGrad {  // dX [rows, in] = dY [rows, out] · W [out, in]
            let t = Tensor(uninitializedShape: x.shape)
            Kernels.gemmBF16(transB: false, m: rows, n: inF, k: outF, a: g.base, lda: outF, b: weight.bits,
                             ldb: inF, c: t.base, ldc: inF)
            dx = t
        }
        if let bias, bias.requiresGrad { db = g.reshaped([rows, outF]).sumRows() }
        return bias == nil ? [dx] : [dx, db]
    }
}
