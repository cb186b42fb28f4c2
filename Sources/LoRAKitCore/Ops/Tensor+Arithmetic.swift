/// Elementwise arithmetic with row broadcasting: the right operand may have the full shape or a suffix of it
/// (e.g. `[hidden]` against `[batch, sequence, hidden]`, or a scalar `[]`), repeated over the leading rows.
extension Tensor {
    enum Binary { case add, sub, mul }

    static func binary(_ op: Binary, _ a: Tensor, _ b: Tensor) -> Tensor {
        if b.count > a.count, op != .sub { return binary(op, b, a) }
        precondition(b.shape == a.shape || (b.rank <= a.rank && Array(a.shape.suffix(b.rank)) == b.shape),
                     "cannot broadcast \(b.shape) onto \(a.shape)")
        let out = Tensor(uninitializedShape: a.shape)
        let n = a.count, cols = Swift.max(b.count, 1)
        let (pa, pb, po) = (a.base, b.base, out.base)
        if b.count == n {
            switch op {
            case .add: Kernels.zip(pa, pb, po, n, +)
            case .sub: Kernels.zip(pa, pb, po, n, -)
            case .mul: Kernels.zip(pa, pb, po, n, *)
            }
        } else {
            let rows = n / cols
            parallelFor(rows, grain: Swift.max(1, Kernels.elementwiseGrain / cols)) { range in
                for r in range {
                    let (x, y) = (pa + r * cols, po + r * cols)
                    var i = 0
                    while i + 16 <= cols {
                        let u = Kernels.load(x + i), v = Kernels.load(pb + i)
                        Kernels.store(op == .add ? u + v : op == .sub ? u - v : u * v, y + i)
                        i += 16
                    }
                    while i < cols {
                        y[i] = op == .add ? x[i] + pb[i] : op == .sub ? x[i] - pb[i] : x[i] * pb[i]
                        i += 1
                    }
                }
            }
        }
        let name = op == .add ? "add" : op == .sub ? "sub" : "mul"
        let (aNeedsGrad, bNeedsGrad, bShape) = (a.requiresGrad, b.requiresGrad, b.shape)
        if op != .mul {
            // A sum's backward needs no operand: capture only shapes, so the operands (residual streams, adapter
            // outputs) are freed as soon as the forward pass is done with them.
            return record(name, out, inputs: [a, b]) { g in
                var gb: Tensor?
                if bNeedsGrad {
                    let s = bShape.reduce(1, *) == n ? g : g.reshaped([n / cols, cols]).sumRows().reshaped(bShape)
                    gb = op == .add ? s : s.scaled(by: -1)
                }
                return [aNeedsGrad ? g : nil, gb]
            }
        }
        return record(name, out, inputs: [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            if aNeedsGrad { ga = binary(.mul, g, b) }
            if bNeedsGrad {
                let p = binary(.mul, g, a)
                gb = b.count == n ? p : p.reshaped([n / cols, cols]).sumRows().reshaped(bShape)
            }
            return [ga, gb]
        }
    }

    /// Elementwise sum (row broadcasting on `rhs`).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.add, lhs, rhs) }
    /// Elementwise difference (row broadcasting on `rhs`).
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.sub, lhs, rhs) }
    /// Elementwise product (row broadcasting on `rhs`).
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.mul, lhs, rhs) }
    /// Multiplies every element by `factor`.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.scaled(by: rhs) }

    /// `self · factor`.
    public func scaled(by factor: Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.map(base, out.base, count) { $0 * factor }
        return Tensor.record("scale", out, inputs: [self]) { g in [g.scaled(by: factor)] }
    }

    /// `self + value` elementwise.
    public func adding(scalar value: Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.map(base, out.base, count) { $0 + value }
        return Tensor.record("addScalar", out, inputs: [self]) { g in [g] }
    }

    /// Sum of all elements, shape `[]`.
    public func sum() -> Tensor {
        var total = 0.0
        let p = base
        var i = 0
        while i < count {
            let m = Swift.min(4096, count - i)
            total += Double(Kernels.rowSum(p + i, m))
            i += m
        }
        let shape = self.shape
        return Tensor.record("sum", Tensor(scalar: Float(total)), inputs: [self]) { g in
            [Tensor.filled(shape, value: g.scalar)]
        }
    }

    /// Mean of all elements, shape `[]`.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(Swift.max(count, 1))) }

    /// Sums `[rows, cols]` over its rows → `[cols]` (no autograd; used by backward rules).
    func sumRows() -> Tensor {
        precondition(rank == 2)
        let (rows, cols) = (shape[0], shape[1])
        let out = Tensor.zeros([cols])
        let (p, o) = (base, out.base)
        for r in 0..<rows { Kernels.axpy(1, p + r * cols, o, cols) }
        return out
    }
}
