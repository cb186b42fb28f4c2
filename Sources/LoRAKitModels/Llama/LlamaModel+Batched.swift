import LoRAKitCore

/// One sequence's share of a batched forward step (continuous batching): the tokens it feeds this step and where
/// its keys and values live in a ``PagedKVCache``.
public struct BatchedSequence: Sendable, Equatable {
    /// The tokens fed this step: one when decoding, a chunk of the prompt when prefilling.
    public var tokens: [Int32]
    /// Absolute position of `tokens[0]`, i.e. how many positions of this sequence are already cached.
    public var start: Int
    /// Block ids covering positions `0 ..< start + tokens.count`.
    public var blockTable: [Int]
    /// Whether the step returns logits for the last token (false for a prompt chunk that is not the last one).
    public var wantsLogits: Bool

    public init(tokens: [Int32], start: Int, blockTable: [Int], wantsLogits: Bool = true) {
        (self.tokens, self.start, self.blockTable, self.wantsLogits) = (tokens, start, blockTable, wantsLogits)
    }
}

extension LlamaModel {
    /// One forward step over many sequences at once, each at its own position with its own paged keys and values.
    ///
    /// The tokens of all sequences are stacked as rows, so every projection runs once for the whole step (one GEMM
    /// per weight matrix); attention runs per sequence over its own blocks. Rows are laid out sequence after
    /// sequence in `batch` order, which is what a row-routing ``LinearAdapter`` sees as `x`'s leading dimension.
    /// - Parameters:
    ///   - batch: the sequences of this step (at least one token each; tokens in `0..<vocab`).
    ///   - cache: the shared block pool; each sequence's new keys/values are written into its blocks.
    /// - Returns: `[count of sequences that want logits, vocab]`, in `batch` order.
    public func logits(batch: [BatchedSequence], cache: PagedKVCache) -> Tensor {
        precondition(batch.allSatisfy { !$0.tokens.isEmpty && $0.blockTable.count * cache.blockSize
                        >= $0.start + $0.tokens.count },
                     "every batched sequence needs tokens and blocks for them")  // invariant: the engine plans this
        let ids = batch.flatMap(\.tokens)
        var positions = [Int32]()
        positions.reserveCapacity(ids.count)
        for s in batch { for i in 0..<s.tokens.count { positions.append(Int32(s.start + i)) } }
        var x = embedTokens(ids, shape: [ids.count])
        for (i, layer) in layers.enumerated() {
            let h = x + layer.attention.batched(layer.inputNorm(x), positions: positions, batch: batch,
                                                cache: cache, layer: i)
            x = h + layer.mlp(layer.postAttentionNorm(h))
        }
        // Only the last row of each sequence that asks for logits goes through the vocabulary head.
        var lastRows = [Int](), row = 0
        for s in batch {
            row += s.tokens.count
            if s.wantsLogits { lastRows.append(row - 1) }
        }
        let hidden = configuration.hiddenSize
        let picked = Tensor(uninitializedShape: [lastRows.count, hidden])
        x.withUnsafeBufferPointer { src in
            picked.withUnsafeSharedMutableBufferPointer { dst in
                for (j, r) in lastRows.enumerated() {
                    (dst.baseAddress! + j * hidden).update(from: src.baseAddress! + r * hidden, count: hidden)
                }
            }
        }
        return lmHead(norm(picked))
    }
}

extension LlamaAttention {
    /// Attention for stacked rows of many sequences.
    /// - Parameters:
    ///   - x: `[rows, hidden]`.
    ///   - positions: `rows` absolute positions.
    /// - Returns: `[rows, hidden]`.
    func batched(_ x: Tensor, positions: [Int32], batch: [BatchedSequence], cache: PagedKVCache,
                 layer: Int) -> Tensor {
        let n = x.shape[0]
        let q = rope(qProj(x).reshaped([n, 1, heads, headDim]), positions: positions, theta: ropeTheta)
        let k = rope(kProj(x).reshaped([n, 1, kvHeads, headDim]), positions: positions, theta: ropeTheta)
        let v = vProj(x)
        let attended = Tensor(uninitializedShape: [n, heads, headDim])
        let (kvRow, qRow) = (kvHeads * headDim, heads * headDim)
        var decodeRows: [PagedAttention.Row] = []
        var row = 0
        for s in batch {
            let t = s.tokens.count
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    cache.write(layer: layer, keys: kb.baseAddress! + row * kvRow, values: vb.baseAddress! + row * kvRow,
                                rows: t, table: s.blockTable, start: s.start)
                }
            }
            if t == 1 {
                decodeRows.append(PagedAttention.Row(index: row, table: s.blockTable, length: s.start + 1))
            } else {
                let length = s.start + t
                let (keys, values) = cache.gather(layer: layer, table: s.blockTable, length: length)
                let out = scaledDotProductAttention(query: q.rows(row..<(row + t)).reshaped([1, t, heads, headDim]),
                                                    key: keys, value: values, keyLength: length, causal: true,
                                                    queryOffset: s.start)
                out.withUnsafeBufferPointer { src in
                    attended.withUnsafeSharedMutableBufferPointer { dst in
                        (dst.baseAddress! + row * qRow).update(from: src.baseAddress!, count: t * qRow)
                    }
                }
            }
            row += t
        }
        PagedAttention.decode(query: q.reshaped([n, heads, headDim]), output: attended, rows: decodeRows,
                              cache: cache, layer: layer)
        return oProj(attended.reshaped([n, qRow]))
    }
}

extension LlamaModel {
    /// A block-paged key/value cache for this model that fits in `budgetBytes` (at least one block).
    /// - Parameters:
    ///   - budgetBytes: memory for keys and values of all layers.
    ///   - blockSize: positions per block.
    public func makePagedCache(budgetBytes: Int, blockSize: Int = 16) -> PagedKVCache {
        let c = configuration
        let perBlock = PagedKVCache.bytesPerBlock(layers: c.layerCount, blockSize: blockSize,
                                                  keyValueHeads: c.keyValueHeads, headDim: c.headDim)
        return PagedKVCache(layers: c.layerCount, blockSize: blockSize, blockCount: max(1, budgetBytes / perBlock),
                            keyValueHeads: c.keyValueHeads, headDim: c.headDim)
    }
}
