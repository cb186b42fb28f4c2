import CBLAS

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
    let out = Tensor(uninitializedShape: query.shape)
    let (pq, pk, pv, po) = (query.base, key.base, value.base, out.base)
    let mask = keyPaddingMask?.base
    let (qStride, kStride) = (tq * hq * d, cap * hkv * d)
    // Each row's max and 1/sum are kept so backward can rebuild the probabilities from Q·Kᵀ instead of keeping
    // [b, heads, tq, tk] of them alive.
    let rowCount = b * hq * tq
    let rowShift = Tensor(uninitializedShape: [rowCount]), rowScale = Tensor(uninitializedShape: [rowCount])
    let (pShift, pScale) = (rowShift.base, rowScale.base)
    if tq >= fusedAttentionMinRows && d % 64 == 0 && d <= Int(LK_ATTENTION_MAX_D) {
        // Prefill and training: the fused kernel, parallel over (batch, head, block of query rows).
        let blocks = (tq + fusedAttentionRows - 1) / fusedAttentionRows
        parallelFor(b * hq * blocks) { range in
            for task in range {
                let (bh, blk) = (task / blocks, task % blocks)
                let (bi, h) = (bh / hq, bh % hq)
                let r0 = blk * fusedAttentionRows, rows = Swift.min(fusedAttentionRows, tq - r0)
                let kv = bi * kStride + (h / group) * d, at = bi * qStride + r0 * hq * d + h * d
                lk_attention_rows(pq + at, hq * d, pk + kv, pv + kv, hkv * d, po + at, hq * d, rows, d, tk,
                                  queryOffset + r0 + 1, causal ? 1 : 0, mask.map { UnsafePointer($0 + bi * tk) }, s,
                                  pShift + bh * tq + r0, pScale + bh * tq + r0)
            }
        }
    } else {
        unfusedAttention(pq, pk, pv, po, mask: mask, rowShift: pShift, rowScale: pScale,
                         shape: (b, tq, hq, tk, cap, hkv, d), causal: causal, queryOffset: queryOffset, scale: s)
    }
    return Tensor.record("attention", out, inputs: [query, key, value]) { g in
        let dq = Tensor(uninitializedShape: query.shape)
        let dk = Tensor.zeros(key.shape), dv = Tensor.zeros(value.shape)
        let pg = g.base, (pShift, pScale) = (rowShift.base, rowScale.base)  // kept alive by the closure
        // One task per (batch, kv head): its query heads run in turn, so its dK and dV have one writer. Tasks run in
        // parallel (each product then on one thread); with a single task the products split instead.
        parallelFor(b * hkv) { tasks in
            let pp = UnsafeMutablePointer<Float>.allocate(capacity: 2 * tq * tk), dpb = pp + tq * tk
            defer { pp.deallocate() }
            for task in tasks {
                let (bi, kh) = (task / hkv, task % hkv)
                let k = pk + bi * kStride + kh * d, v = pv + bi * kStride + kh * d
                for h in kh * group..<(kh + 1) * group {
                    let rows0 = (bi * hq + h) * tq
                    // Causal: blocks of query rows against only the keys some row of the block can see.
                    for i0 in stride(from: 0, to: tq, by: causal ? backwardRowBlock : tq) {
                        let rows = Swift.min(causal ? backwardRowBlock : tq, tq - i0)
                        // The block's widest row sets the keys it reads.
                        let width = keyLimit(row: i0 + rows - 1, causal: causal, queryOffset: queryOffset, tk: tk)
                        let q = pq + bi * qStride + i0 * hq * d + h * d, go = pg + bi * qStride + i0 * hq * d + h * d
                        let dqb = dq.base + bi * qStride + i0 * hq * d + h * d
                        if width == 0 {
                            for i in 0..<rows { (dqb + i * hq * d).update(repeating: 0, count: d) }
                            continue
                        }
                        // P again: the same scores, exponentiated with the forward's row statistics.
                        Kernels.gemm(transA: false, transB: true, m: rows, n: width, k: d, alpha: s, a: q, lda: hq * d,
                                     b: k, ldb: hkv * d, c: pp, ldc: width)
                        parallelFor(rows, grain: Swift.max(1, 8192 / width)) { range in
                            for i in range {
                                let limit = keyLimit(row: i0 + i, causal: causal, queryOffset: queryOffset, tk: tk)
                                _ = attentionProbabilities(pp + i * width, limit: limit, width: width,
                                                           mask: mask.map { $0 + bi * tk },
                                                           shift: (pShift[rows0 + i0 + i], pScale[rows0 + i0 + i]))
                            }
                        }
                        // dV += Pᵀ · dO
                        Kernels.gemm(transA: true, transB: false, m: width, n: d, k: rows, a: pp, lda: width, b: go,
                                     ldb: hq * d, beta: 1, c: dv.base + bi * kStride + kh * d, ldc: hkv * d)
                        // dP = dO · Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale (in place)
                        Kernels.gemm(transA: false, transB: true, m: rows, n: width, k: d, a: go, lda: hq * d, b: v,
                                     ldb: hkv * d, c: dpb, ldc: width)
                        parallelFor(rows, grain: Swift.max(1, 8192 / width)) { range in
                            for i in range {
                                let row = dpb + i * width
                                Kernels.softmaxBackwardRow(pp + i * width, row, row, width)
                                if s != 1 { for j in 0..<width { row[j] *= s } }
                            }
                        }
                        // dQ = dS · K ;  dK += dSᵀ · Q
                        Kernels.gemm(transA: false, transB: false, m: rows, n: d, k: width, a: dpb, lda: width, b: k,
                                     ldb: hkv * d, c: dqb, ldc: hq * d)
                        Kernels.gemm(transA: true, transB: false, m: width, n: d, k: rows, a: dpb, lda: width, b: q,
                                     ldb: hq * d, beta: 1, c: dk.base + bi * kStride + kh * d, ldc: hkv * d)
                    }
                }
            }
        }
        return [query.requiresGrad ? dq : nil, key.requiresGrad ? dk : nil, value.requiresGrad ? dv : nil]
    }
}

/// Query rows per task of the fused kernel, and the fewest query rows worth it (decode's one row per sequence stays
/// on the two-GEMM path, where the skinny kernel streams the cache).
private let fusedAttentionRows = 256
private let fusedAttentionMinRows = 4
/// Query rows per block of the causal backward (each block reads only the keys its rows can see).
private let backwardRowBlock = 64

/// Keys query `row` attends: `0..<limit` (causal: up to its own position `queryOffset + row`), of `tk`.
@inline(__always)
private func keyLimit(row: Int, causal: Bool, queryOffset: Int, tk: Int) -> Int {
    causal ? Swift.max(0, Swift.min(tk, queryOffset + row + 1)) : tk
}

/// The two-GEMM forward: per (batch, head) scores = Q·Kᵀ into a [tq, tk] buffer, softmax per row, then P·V.
private func unfusedAttention(_ pq: UnsafeMutablePointer<Float>, _ pk: UnsafeMutablePointer<Float>,
                              _ pv: UnsafeMutablePointer<Float>, _ po: UnsafeMutablePointer<Float>,
                              mask: UnsafeMutablePointer<Float>?, rowShift pShift: UnsafeMutablePointer<Float>,
                              rowScale pScale: UnsafeMutablePointer<Float>,
                              shape: (b: Int, tq: Int, hq: Int, tk: Int, cap: Int, hkv: Int, d: Int), causal: Bool,
                              queryOffset: Int, scale s: Float) {
    let (b, tq, hq, tk, cap, hkv, d) = shape
    let group = hq / hkv
    let (qStride, kStride) = (tq * hq * d, cap * hkv * d)
    let probs = Tensor(uninitializedShape: [b, hq, tq, tk])
    let pp = probs.base
    for bi in 0..<b {
        for h in 0..<hq {
            let q = pq + bi * qStride + h * d, k = pk + bi * kStride + (h / group) * d
            Kernels.gemm(transA: false, transB: true, m: tq, n: tk, k: d, alpha: s, a: q, lda: hq * d, b: k,
                         ldb: hkv * d, c: pp + (bi * hq + h) * tq * tk, ldc: tk)
        }
    }
    parallelFor(b * hq * tq, grain: Swift.max(1, 8192 / Swift.max(tk, 1))) { range in
        for row in range {
            let bi = row / (hq * tq), i = row % tq
            let limit = keyLimit(row: i, causal: causal, queryOffset: queryOffset, tk: tk)
            (pShift[row], pScale[row]) = attentionProbabilities(pp + row * tk, limit: limit, width: tk,
                                                                mask: mask.map { $0 + bi * tk }, shift: nil)
        }
    }
    for bi in 0..<b {
        for h in 0..<hq {
            let v = pv + bi * kStride + (h / group) * d
            Kernels.gemm(transA: false, transB: false, m: tq, n: d, k: tk, a: pp + (bi * hq + h) * tq * tk, lda: tk,
                         b: v, ldb: hkv * d, c: po + bi * qStride + h * d, ldc: hq * d)
        }
    }
}

/// Turns one row of scores into attention probabilities in place: masked keys and keys past `limit` get 0.
/// - Parameter shift: the row's `(max, 1/sum)` from the forward pass to reuse; `nil` computes them.
/// - Returns: the `(max, 1/sum)` used (`(0, 0)` for a row with no key to attend, which becomes all zeros).
@inline(__always)
private func attentionProbabilities(_ p: UnsafeMutablePointer<Float>, limit: Int, width: Int,
                                    mask: UnsafeMutablePointer<Float>?, shift: (Float, Float)?) -> (Float, Float) {
    var any = limit > 0
    if let mask {
        any = false
        for j in 0..<limit { if mask[j] == 0 { p[j] = -.infinity } else { any = true } }
    }
    var stats: (Float, Float) = (0, 0)
    if !any {
        p.update(repeating: 0, count: limit)
    } else if let shift {
        _ = lk_exp_sum_inplace(p, limit, shift.0, shift.1)
        stats = shift
    } else {
        let m = Kernels.rowMax(p, limit)
        let inv = 1 / lk_exp_sum_inplace(p, limit, m, 1)
        for j in 0..<limit { p[j] *= inv }
        stats = (m, inv)
    }
    (p + limit).update(repeating: 0, count: width - limit)
    return stats
}
