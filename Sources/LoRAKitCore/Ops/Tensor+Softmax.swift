import CBLAS

extension Kernels {
    /// In-place softmax of one row of length `n > 0`.
    @inlinable @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        let m = rowMax(row, n)
        let inv = 1 / lk_exp_sum(row, row, n, m, 1)
        let iv = Vec(repeating: inv)
        var i = 0
        while i + 16 <= n { store(load(row + i) * iv, row + i); i += 16 }
        while i < n { row[i] *= inv; i += 1 }
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
