import LoRAKitCore

/// Attention of one new token per sequence over that sequence's blocks in a ``PagedKVCache`` (the decode step of
/// continuous batching). Reads the blocks in place: no gather, no copy.
enum PagedAttention {
    /// One decoding row: its query and the sequence it reads.
    struct Row {
        /// Row index in the step's `[rows, heads, headDim]` query/output.
        var index: Int
        var table: [Int]
        /// Positions to attend (the new token's position + 1).
        var length: Int
    }

    /// - Parameters:
    ///   - query: `[rows, heads, headDim]` for the step (only `rows[i].index` rows are read).
    ///   - output: `[rows, heads, headDim]`; the rows named in `rows` are written.
    static func decode(query: Tensor, output: Tensor, rows: [Row], cache: PagedKVCache, layer: Int) {
        guard !rows.isEmpty else { return }
        let (hq, d) = (query.shape[1], query.shape[2])
        let hkv = cache.keyValueHeads
        let group = hq / hkv
        let scale = 1 / Float(d).squareRoot()
        let (bs, row) = (cache.blockSize, hkv * d)
        query.withUnsafeBufferPointer { qb in
            output.withUnsafeSharedMutableBufferPointer { ob in
                cache.keys[layer].withUnsafeBufferPointer { kb in
                    cache.values[layer].withUnsafeBufferPointer { vb in
                        let (pq, po, pk, pv) = (qb.baseAddress!, ob.baseAddress!, kb.baseAddress!, vb.baseAddress!)
                        parallelFor(rows.count * hq) { range in
                            for task in range {
                                let r = rows[task / hq], h = task % hq
                                let kh = h / group
                                let q = pq + (r.index * hq + h) * d, out = po + (r.index * hq + h) * d
                                let scores = UnsafeMutablePointer<Float>.allocate(capacity: r.length)
                                defer { scores.deallocate() }
                                for p in 0..<r.length {
                                    let at = (r.table[p / bs] * bs + p % bs) * row + kh * d
                                    scores[p] = Kernels.dot(q, pk + at, d) * scale
                                }
                                Kernels.softmaxRow(scores, r.length)
                                out.update(repeating: 0, count: d)
                                for p in 0..<r.length {
                                    let at = (r.table[p / bs] * bs + p % bs) * row + kh * d
                                    Kernels.axpy(scores[p], pv + at, out, d)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
