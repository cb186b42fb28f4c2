/// Splits `rows` into at most one chunk per thread and runs `body(chunk, rows)`; returns the chunk count.
/// Used where each chunk keeps its own partial sums (weight gradients) that are reduced afterwards.
@usableFromInline
func parallelChunks(_ rows: Int, minRowsPerChunk: Int, _ body: (Int, Range<Int>) -> Void) -> Int {
    let chunks = Swift.max(1, Swift.min(ComputeThreads.count, rows / Swift.max(minRowsPerChunk, 1)))
    let step = (rows + chunks - 1) / chunks
    parallelFor(chunks, grain: 1) { r in
        for c in r { body(c, (c * step)..<Swift.min(rows, (c + 1) * step)) }
    }
    return chunks
}

/// Sums `chunks` partial rows of length `n` from `partials` into a new `[n]` tensor.
func reducePartials(_ partials: UnsafeMutablePointer<Float>, chunks: Int, n: Int) -> Tensor {
    let out = Tensor(uninitializedShape: [n])
    out.base.update(from: partials, count: n)
    for c in 1..<Swift.max(chunks, 1) { Kernels.axpy(1, partials + c * n, out.base, n) }
    return out
}

/// Fused RMSNorm (Llama): `x / √(mean(x²) + eps) · weight` over the last axis.
/// - Parameters:
///   - x: `[..., hidden]`.
///   - weight: `[hidden]`.
///   - eps: added to the mean square (Llama: 1e-5 or 1e-6).
public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
    let h = x.shape.last ?? 1
    precondition(weight.shape == [h], "rmsNorm weight must be [\(h)], got \(weight.shape)")
    let rows = x.count / Swift.max(h, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let rstd = Tensor(uninitializedShape: [rows])
    let (px, pw, po, pr) = (x.base, weight.base, out.base, rstd.base)
    parallelFor(rows, grain: Swift.max(1, 16384 / Swift.max(h, 1))) { range in
        for r in range {
            let xr = px + r * h, yr = po + r * h
            let s = 1 / (Kernels.dot(xr, xr, h) / Float(h) + eps).squareRoot()
            pr[r] = s
            let sv = Vec(repeating: s)
            var i = 0
            while i + 16 <= h { Kernels.store(Kernels.load(xr + i) * sv * Kernels.load(pw + i), yr + i); i += 16 }
            while i < h { yr[i] = xr[i] * s * pw[i]; i += 1 }
        }
    }
    return Tensor.record("rmsNorm", out, inputs: [x, weight]) { g in
        let pg = g.base, pr = rstd.base  // the closure keeps `rstd` alive
        var dx: Tensor?
        var dw: Tensor?
        let dxT = x.requiresGrad ? Tensor(uninitializedShape: x.shape) : nil
        let needW = weight.requiresGrad
        let maxChunks = ComputeThreads.count
        let partials = needW ? Tensor.zeros([maxChunks, h]) : nil
        let chunks = parallelChunks(rows, minRowsPerChunk: Swift.max(1, 4096 / Swift.max(h, 1))) { c, range in
            for r in range {
                let xr = px + r * h, gr = pg + r * h, s = pr[r]
                if let dxT {
                    // dx = s·(g·w) − x·s³·mean(g·w·x)
                    var acc = Vec(), i = 0
                    while i + 16 <= h {
                        acc += Kernels.load(gr + i) * Kernels.load(pw + i) * Kernels.load(xr + i)
                        i += 16
                    }
                    var dotv = acc.sum()
                    while i < h { dotv += gr[i] * pw[i] * xr[i]; i += 1 }
                    let k = Vec(repeating: s * s * s * dotv / Float(h)), sv = Vec(repeating: s)
                    let dr = dxT.base + r * h
                    i = 0
                    while i + 16 <= h {
                        let v = sv * Kernels.load(gr + i) * Kernels.load(pw + i) - Kernels.load(xr + i) * k
                        Kernels.store(v, dr + i)
                        i += 16
                    }
                    while i < h { dr[i] = s * gr[i] * pw[i] - xr[i] * k[0]; i += 1 }
                }
                if let partials {  // dw += g·x·s
                    let pp = partials.base + c * h
                    let sv = Vec(repeating: s)
                    var i = 0
                    while i + 16 <= h {
                        Kernels.store(Kernels.load(pp + i) + Kernels.load(gr + i) * Kernels.load(xr + i) * sv, pp + i)
                        i += 16
                    }
                    while i < h { pp[i] += gr[i] * xr[i] * s; i += 1 }
                }
            }
        }
        dx = dxT
        if let partials { dw = reducePartials(partials.base, chunks: chunks, n: h) }
        return [dx, dw]
    }
}

/// LayerNorm (BERT): `(x − mean) / √(var + eps) · weight + bias` over the last axis.
/// - Parameters:
///   - x: `[..., hidden]`.
///   - weight, bias: `[hidden]`.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    let h = x.shape.last ?? 1
    precondition(weight.shape == [h] && bias.shape == [h], "layerNorm weight/bias must be [\(h)]")
    let rows = x.count / Swift.max(h, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let xhat = Tensor(uninitializedShape: x.shape)
    let rstd = Tensor(uninitializedShape: [rows])
    let (px, pw, pb, po, ph, pr) = (x.base, weight.base, bias.base, out.base, xhat.base, rstd.base)
    parallelFor(rows, grain: Swift.max(1, 16384 / Swift.max(h, 1))) { range in
        for r in range {
            let xr = px + r * h, yr = po + r * h, hr = ph + r * h
            let mean = Kernels.rowSum(xr, h) / Float(h)
            var v: Float = 0
            for i in 0..<h { let d = xr[i] - mean; v += d * d }
            let s = 1 / (v / Float(h) + eps).squareRoot()
            pr[r] = s
            for i in 0..<h {
                let n = (xr[i] - mean) * s
                hr[i] = n
                yr[i] = n * pw[i] + pb[i]
            }
        }
    }
    return Tensor.record("layerNorm", out, inputs: [x, weight, bias]) { g in
        let pg = g.base, ph = xhat.base, pr = rstd.base  // the closure keeps `xhat`, `rstd` alive
        let dxT = x.requiresGrad ? Tensor(uninitializedShape: x.shape) : nil
        let maxChunks = ComputeThreads.count
        let needParams = weight.requiresGrad || bias.requiresGrad
        let partials = needParams ? Tensor.zeros([2, maxChunks, h]) : nil
        let chunks = parallelChunks(rows, minRowsPerChunk: Swift.max(1, 4096 / Swift.max(h, 1))) { c, range in
            for r in range {
                let gr = pg + r * h, hr = ph + r * h, s = pr[r]
                if let dxT {
                    // dx = s·(gx − mean(gx) − x̂·mean(gx·x̂)), gx = g·w
                    var m1: Float = 0, m2: Float = 0
                    for i in 0..<h { let gx = gr[i] * pw[i]; m1 += gx; m2 += gx * hr[i] }
                    m1 /= Float(h); m2 /= Float(h)
                    let dr = dxT.base + r * h
                    for i in 0..<h { dr[i] = s * (gr[i] * pw[i] - m1 - hr[i] * m2) }
                }
                if let partials {
                    let pwg = partials.base + c * h, pbg = partials.base + (maxChunks + c) * h
                    for i in 0..<h { pwg[i] += gr[i] * hr[i]; pbg[i] += gr[i] }
                }
            }
        }
        var dw: Tensor?, db: Tensor?
        if let partials {
            if weight.requiresGrad { dw = reducePartials(partials.base, chunks: chunks, n: h) }
            if bias.requiresGrad { db = reducePartials(partials.base + maxChunks * h, chunks: chunks, n: h) }
        }
        return [dxT, dw, db]
    }
}
