/// GELU's two formulas (PyTorch `approximate="tanh"` / `"none"`).
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — GPT-2, `gelu_pytorch_tanh`.
    case tanh
    /// 0.5·x·(1 + erf(x/√2)) — BERT's exact GELU.
    case erf
}

@usableFromInline let geluC: Float = 0.797_884_560_8  // √(2/π)
@usableFromInline let geluK: Float = 0.044_715

extension Tensor {
    /// SiLU (swish): `x · sigmoid(x)`, elementwise.
    public func silu() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.map(base, out.base, count) { $0 * Kernels.sigmoid($0) }
        return Tensor.record("silu", out, inputs: [self]) { [self] g in
            let d = Tensor(uninitializedShape: self.shape)
            Kernels.zip(self.base, g.base, d.base, self.count) { x, g in
                let s = Kernels.sigmoid(x)
                return g * s * (1 + x * (1 - s))
            }
            return [d]
        }
    }

    /// GELU, elementwise.
    public func gelu(_ approximation: GELUApproximation = .tanh) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        switch approximation {
        case .tanh:
            Kernels.map(base, out.base, count) { x in
                let inner: Vec = geluC * (x + geluK * x * x * x)
                return 0.5 * x * (1 + Kernels.tanh(inner))
            }
        case .erf:
            Kernels.map(base, out.base, count) { x in 0.5 * x * (1 + Kernels.erf(x * 0.707_106_781)) }
        }
        return Tensor.record("gelu", out, inputs: [self]) { [self] g in
            let d = Tensor(uninitializedShape: self.shape)
            switch approximation {
            case .tanh:
                Kernels.zip(self.base, g.base, d.base, self.count) { x, g in
                    let x2: Vec = x * x
                    let inner: Vec = geluC * (x + geluK * x2 * x)
                    let t: Vec = Kernels.tanh(inner)
                    let dInner: Vec = geluC * (1 + 3 * geluK * x2)
                    let left: Vec = 0.5 * (1 + t)
                    let right: Vec = 0.5 * x * (1 - t * t) * dInner
                    return g * (left + right)
                }
            case .erf:
                Kernels.zip(self.base, g.base, d.base, self.count) { x, g in
                    let cdf: Vec = 0.5 * (1 + Kernels.erf(x * 0.707_106_781))
                    let pdf: Vec = Kernels.exp(-0.5 * x * x) * 0.398_942_280_4
                    return g * (cdf + x * pdf)
                }
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
    Kernels.zip(gate.base, up.base, out.base, gate.count) { a, b in a * Kernels.sigmoid(a) * b }
    return Tensor.record("swiglu", out, inputs: [gate, up]) { g in
        let n = gate.count
        var dGate: Tensor?, dUp: Tensor?
        if gate.requiresGrad {
            let d = Tensor(uninitializedShape: gate.shape)
            Kernels.zip3(gate.base, up.base, g.base, d.base, n) { a, b, g in
                let s = Kernels.sigmoid(a)
                return g * b * s * (1 + a * (1 - s))
            }
            dGate = d
        }
        if up.requiresGrad {
            let d = Tensor(uninitializedShape: up.shape)
            Kernels.zip(gate.base, g.base, d.base, n) { a, g in g * a * Kernels.sigmoid(a) }
            dUp = d
        }
        return [dGate, dUp]
    }
}
