/// Fused scaled-dot-product attention with grouped-query heads, causal masking with a query offset (KV-cache
/// decode), and an optional key padding mask. Works in the `[batch, sequence, heads, headDim]` layout that
/// projections produce (no transposing copies): per (batch, head) two BLAS products with leading dimensions.
///
/// Query head `h` reads key/value head `h / (queryHeads / kvHeads)` (transformers' `repeat_kv`).
/// - Parameters:
///   - query: `[batch, queryLength, queryHeads, headDim]`.
///   - key, value: `[batch, capacity, kvHeads, headDim]`; only the first `keyLength` positions are read (so a
///     KV cache can be passed whole). `queryHeads` must be a multiple of `kvHeads`.
///   - keyLength: keys in use; default `capacity`.
///   - causal: query `i` attends keys `0...(queryOffset + i)`.
///   - queryOffset: absolute position of the first query (decode with a cache: the number of cached tokens).
///   - keyPaddingMask: `[batch, keyLength]`, nonzero = attend, zero = padding. Query rows with no key to attend
///     produce zeros.
///   - scale: default `1/√headDim`.
/// - Returns: `[batch, queryLength, queryHeads, headDim]`.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, keyLength: Int? = nil,
                                      causal: Bool = true, queryOffset: Int = 0, keyPaddingMask: Tensor? = nil,
                                      scale: Float? = nil) -> Tensor {
    precondition(query.rank == 4 && key.rank == 4 && key.shape == value.shape,
                 "attention expects q [b, t, hq, d], k = v [b, s, hkv, d]; got \(query.shape), \(key.shape), \(value.shape)")
    let (b, tq, hq, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
    let (cap, hkv) = (key.shape[1], key.shape[2])
    let tk = keyLength ?? cap
    precondition(key.shape[0] == b && key.shape[3] == d && tk <= cap && hkv > 0 && hq % hkv == 0,
                 "attention shapes disagree: q \(query.shape), k \(key.shape), keyLength \(tk)")
    if let m = keyPaddingMask { precondition(m.shape == [b, tk], "keyPaddingMask must be [\(b), \(tk)], got \(m.shape)") }
    let group = hq / hkv
    let s = scale ?? 1 / Float(d).squareRoot()
    let probs = Tensor(uninitializedShape: [b, hq, tq, tk])
    let out = Tensor(uninitializedShape: query.shape)
    let (pq, pk, pv, pp, po) = (query.base, key.base, value.base, probs.base, out.base)
    let mask = keyPaddingMask?.base
    let (qStride, kStride) = (tq * hq * d, cap * hkv * d)
    for bi in 0..<b {
        for h in 0..<hq {
            let kh = h / group
            let q = pq + bi * qStride + h * d, k = pk + bi * kStride + kh * d
            let p = pp + (bi * hq + h) * tq * tk
            Kernels.gemm(transA: false, transB: true, m: tq, n: tk, k: d, alpha: s, a: q, lda: hq * d, b: k,
                         ldb: hkv * d, c: p, ldc: tk)
        }
    }
    // Mask and softmax every score row.
    parallelFor(b * hq * tq, grain: Swift.max(1, 8192 / Swift.max(tk, 1))) { range in
        for row in range {
            let bi = row / (hq * tq), i = row % tq
            let p = pp + row * tk
            let limit = causal ? Swift.max(0, Swift.min(tk, queryOffset + i + 1)) : tk
            var any = limit > 0
            if let mask {
                any = false
                let m = mask + bi * tk
                for j in 0..<limit { if m[j] == 0 { p[j] = -.infinity } else { any = true } }
            }
            if any { Kernels.softmaxRow(p, limit) } else { p.update(repeating: 0, count: limit) }
            (p + limit).update(repeating: 0, count: tk - limit)
        }
    }
    for bi in 0..<b {
        for h in 0..<hq {
            let v = pv + bi * kStride + (h / group) * d
            Kernels.gemm(transA: false, transB: false, m: tq, n: d, k: tk, a: pp + (bi * hq + h) * tq * tk, lda: tk,
                         b: v, ldb: hkv * d, c: po + bi * qStride + h * d, ldc: hq * d)
        }
    }
    return Tensor.record("attention", out, inputs: [query, key, value]) { g in
        let dq = Tensor(uninitializedShape: query.shape)
        let dk = Tensor.zeros(key.shape), dv = Tensor.zeros(value.shape)
        let dp = Tensor(uninitializedShape: [tq, tk])
        let pg = g.base, pp = probs.base  // the closure keeps `probs` alive
        for bi in 0..<b {
            for h in 0..<hq {
                let kh = h / group
                let q = pq + bi * qStride + h * d, k = pk + bi * kStride + kh * d, v = pv + bi * kStride + kh * d
                let go = pg + bi * qStride + h * d
                let p = pp + (bi * hq + h) * tq * tk
                // dV += Pᵀ · dO
                Kernels.gemm(transA: true, transB: false, m: tk, n: d, k: tq, a: p, lda: tk, b: go, ldb: hq * d,
                             beta: 1, c: dv.base + bi * kStride + kh * d, ldc: hkv * d)
                // dP = dO · Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale (in place)
                Kernels.gemm(transA: false, transB: true, m: tq, n: tk, k: d, a: go, lda: hq * d, b: v, ldb: hkv * d,
                             c: dp.base, ldc: tk)
                let dpb = dp.base
                parallelFor(tq, grain: Swift.max(1, 8192 / Swift.max(tk, 1))) { range in
                    for i in range {
                        let row = dpb + i * tk
                        Kernels.softmaxBackwardRow(p + i * tk, row, row, tk)
                        if s != 1 { for j in 0..<tk { row[j] *= s } }
                    }
                }
                // dQ = dS · K ;  dK += dSᵀ · Q
                Kernels.gemm(transA: false, transB: false, m: tq, n: d, k: tk, a: dpb, lda: tk, b: k, ldb: hkv * d,
                             c: dq.base + bi * qStride + h * d, ldc: hq * d)
                Kernels.gemm(transA: true, transB: false, m: tk, n: d, k: tq, a: dpb, lda: tk, b: q, ldb: hq * d,
                             beta: 1, c: dk.base + bi * kStride + kh * d, ldc: hkv * d)
            }
        }
        return [query.requiresGrad ? dq : nil, key.requiresGrad ? dk : nil, value.requiresGrad ? dv : nil]
    }
}
