extension Kernels {
    /// In-place softmax of one row of length `n`; returns nothing, `row` holds probabilities.
    @inlinable @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        let m = rowMax(row, n)
        let mv = Vec(repeating: m)
        var acc = Vec(), i = 0
        while i + 16 <= n {
            let e = exp(load(row + i) - mv)
            store(e, row + i)
            acc += e
            i += 16
        }
        if i < n {
            let e = exp(loadPartial(row + i, n - i) - mv)
            storePartial(e, row + i, n - i)
            for j in 0..<(n - i) { acc[j] += e[j] }
        }
        let inv = Vec(repeating: 1 / acc.sum())
        i = 0
        while i + 16 <= n { store(load(row + i) * inv, row + i); i += 16 }
        while i < n { row[i] *= inv[0]; i += 1 }
    }

    /// `dx = y · (g − Σ g·y)` for one softmax row.
    @inlinable @inline(__always)
    public static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                          _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = Vec(repeating: dot(y, g, n))
        var i = 0
        while i + 16 <= n { store(load(y + i) * (load(g + i) - s), dx + i); i += 16 }
        while i < n { dx[i] = y[i] * (g[i] - s[0]); i += 1 }
    }
}

extension Tensor {
    /// Softmax along the last axis.
    public func softmax() -> Tensor {
        let n = shape.last ?? 1, rows = count / Swift.max(n, 1)
        let out = copied()
        let p = out.base
        parallelFor(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { r in
            for i in r { Kernels.softmaxRow(p + i * n, n) }
        }
        return Tensor.record("softmax", out, inputs: [self]) { g in
            let d = Tensor(uninitializedShape: out.shape)
            let (py, pg, pd) = (out.base, g.base, d.base)
            parallelFor(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { r in
                for i in r { Kernels.softmaxBackwardRow(py + i * n, pg + i * n, pd + i * n, n) }
            }
            return [d]
        }
    }
}
