/// A projection's `[out, in]` weight in its own storage (a model's `Linear` keeps one), for ops that run its two
/// products themselves (the fused cross-entropy head, the fused LoRA projection).
public enum ProjectionWeight: @unchecked Sendable {
    /// `Float`; may require grad (training full weights).
    case float32(Tensor)
    /// Frozen bfloat16; gradients flow to the input only.
    case bfloat16(BF16Matrix)

    /// `[out, in]`.
    public var shape: [Int] {
        switch self {
        case .float32(let w): return w.shape
        case .bfloat16(let w): return w.shape
        }
    }

    /// The tensors an op recording this weight lists as inputs (a bf16 weight is frozen and listed nowhere).
    var recordedInputs: [Tensor] {
        if case .float32(let w) = self { return [w] }
        return []
    }

    /// The weight when it requires grad.
    var trainable: Tensor? {
        if case .float32(let w) = self, w.requiresGrad { return w }
        return nil
    }

    /// `out[rows, count] = x · W[from..<from+count]ᵀ`.
    func product(_ x: UnsafePointer<Float>, rows n: Int, from c0: Int, count c: Int,
                 into out: UnsafeMutablePointer<Float>) {
        let h = shape[1]
        switch self {
        case .float32(let w):
            Kernels.gemm(transA: false, transB: true, m: n, n: c, k: h, a: x, lda: h, b: w.base + c0 * h, ldb: h,
                         c: out, ldc: c)
        case .bfloat16(let w):
            Kernels.gemmBF16(transB: true, m: n, n: c, k: h, a: x, lda: h, b: w.bits + c0 * h, ldb: h, c: out,
                             ldc: c)
        }
    }

    /// `dX = dL[rows, count] · W[from..<from+count] + beta · dX` (`beta` 1 adds into `dx`, 0 overwrites it).
    func addInputGradient(_ dl: UnsafePointer<Float>, rows n: Int, from c0: Int, count c: Int, beta: Float = 1,
                          into dx: UnsafeMutablePointer<Float>) {
        let h = shape[1]
        switch self {
        case .float32(let w):
            Kernels.gemm(transA: false, transB: false, m: n, n: h, k: c, a: dl, lda: c, b: w.base + c0 * h, ldb: h,
                         beta: beta, c: dx, ldc: h)
        case .bfloat16(let w):
            Kernels.gemmBF16(transB: false, m: n, n: h, k: c, a: dl, lda: c, b: w.bits + c0 * h, ldb: h, beta: beta,
                             c: dx, ldc: h)
        }
    }
}
