import CBLAS

/// GELU's two formulas (PyTorch `approximate="tanh"` / `"none"`).
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — GPT-2, `gelu_pytorch_tanh`.
    case tanh
    /// 0.5·x·(1 + erf(x/√2)) — BERT's exact GELU.
    case erf
}

// The exp-heavy loops run in CBLAS/lk_vmath.c, built per CPU (AVX-512 / AVX2 / baseline) and chosen at load
// time; the same formulas in Swift SIMD (`Kernels.sigmoid`, `Kernels.tanh`, `Kernels.erf`) are kept for other
// kernels and tests.

extension Tensor {
    /// SiLU (swish): `x · sigmoid(x)`, elementwise.
    public func silu() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let (px, po) = (base, out.base)
        Kernels.chunked(count) { s, n in lk_silu(px + s, po + s, n) }
        return Tensor.record("silu", out, inputs: [self]) { [self] g in
            let d = Tensor(uninitializedShape: self.shape)
            let (px, pg, pd) = (self.base, g.base, d.base)
            Kernels.chunked(self.count) { s, n in lk_silu_backward(px + s, pg + s, pd + s, n) }
            return [d]
        }
    }

    /// GELU, elementwise.
    public func gelu(_ approximation: GELUApproximation = .tanh) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let (px, po) = (base, out.base)
        switch approximation {
        case .tanh: Kernels.chunked(count) { s, n in lk_gelu_tanh(px + s, po + s, n) }
        case .erf: Kernels.chunked(count) { s, n in lk_gelu_erf(px + s, po + s, n) }
        }
        return Tensor.record("gelu", out, inputs: [self]) { [self] g in
            let d = Tensor(uninitializedShape: self.shape)
            let (px, pg, pd) = (self.base, g.base, d.base)
            switch approximation {
            case .tanh: Kernels.chunked(self.count) { s, n in lk_gelu_tanh_backward(px + s, pg + s, pd + s, n) }
            case .erf: Kernels.chunked(self.count) { s, n in lk_gelu_erf_backward(px + s, pg + s, pd + s, n) }
            }
            return [d]
        }
    }
}

/// Fused SwiGLU: `silu(gate) · up` (Llama's MLP before `down_proj`), one pass forward and backward.
/// - Parameters:
///   - gate: `[..., intermediate]`.
///   - up: same shape as `gate`.
public func swiglu(gate: Tensor, up: Tensor) -> Tensor {
    precondition(gate.shape == up.shape, "swiglu shapes differ: \(gate.shape) vs \(up.shape)")
    let out = Tensor(uninitializedShape: gate.shape)
    let (pa, pb, po) = (gate.base, up.base, out.base)
    Kernels.chunked(gate.count) { s, n in lk_swiglu(pa + s, pb + s, po + s, n) }
    return Tensor.record("swiglu", out, inputs: [gate, up]) { g in
        let dGate = gate.requiresGrad ? Tensor(uninitializedShape: gate.shape) : nil
        let dUp = up.requiresGrad ? Tensor(uninitializedShape: up.shape) : nil
        let (pa, pb, pg) = (gate.base, up.base, g.base)
        let (pdg, pdu) = (dGate?.base, dUp?.base)
        Kernels.chunked(gate.count) { s, n in
            lk_swiglu_backward(pa + s, pb + s, pg + s, pdg.map { $0 + s }, pdu.map { $0 + s }, n)
        }
        return [dGate, dUp]
    }
}
