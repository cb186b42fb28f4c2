import LoRAKitCore

/// A key/value cache shared by many sequences, in fixed-size blocks (vLLM's PagedAttention layout).
///
/// Each layer holds a pool of `blockCount` blocks of `blockSize` positions, `[blockCount, blockSize, kvHeads, headDim]`
/// for keys and for values (post-RoPE keys, the layout ``KVCache`` uses). A sequence owns a list of block ids (its
/// block table); position `p` of the sequence lives in block `table[p / blockSize]` at offset `p % blockSize`.
/// Blocks are handed out and taken back with ``allocate()`` and ``free(_:)``; the pool never grows, so the memory
/// is fixed by the budget given at creation.
///
/// Not thread-safe: one owner (the serving engine's loop) allocates, writes and reads.
public final class PagedKVCache: @unchecked Sendable {
    /// Positions per block.
    public let blockSize: Int
    /// Blocks in the pool.
    public let blockCount: Int
    public let layerCount: Int
    public let keyValueHeads: Int
    public let headDim: Int
    /// Per layer: `[blockCount, blockSize, kvHeads, headDim]`.
    public let keys: [Tensor]
    /// Per layer: `[blockCount, blockSize, kvHeads, headDim]`.
    public let values: [Tensor]
    private var freeList: [Int]

    /// Bytes one block takes across all layers (keys and values, `Float`).
    public static func bytesPerBlock(layers: Int, blockSize: Int, keyValueHeads: Int, headDim: Int) -> Int {
        2 * layers * blockSize * keyValueHeads * headDim * MemoryLayout<Float>.size
    }

    /// - Parameters:
    ///   - layers, keyValueHeads, headDim: the model's.
    ///   - blockSize: positions per block (16 is vLLM's default).
    ///   - blockCount: blocks in the pool (at least 1).
    public init(layers: Int, blockSize: Int, blockCount: Int, keyValueHeads: Int, headDim: Int) {
        precondition(layers > 0 && blockSize > 0 && blockCount > 0, "paged cache needs positive sizes")  // invariant
        (self.layerCount, self.blockSize, self.blockCount) = (layers, blockSize, blockCount)
        (self.keyValueHeads, self.headDim) = (keyValueHeads, headDim)
        let shape = [blockCount, blockSize, keyValueHeads, headDim]
        keys = (0..<layers).map { _ in Tensor.zeros(shape) }
        values = (0..<layers).map { _ in Tensor.zeros(shape) }
        freeList = Array((0..<blockCount).reversed())
    }

    /// Blocks not owned by any sequence.
    public var freeBlockCount: Int { freeList.count }

    /// Blocks needed to hold `positions` positions.
    public func blocksNeeded(for positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    /// Takes a free block, or `nil` when the pool is exhausted.
    public func allocate() -> Int? { freeList.popLast() }

    /// Returns blocks to the pool.
    public func free(_ blocks: [Int]) { freeList.append(contentsOf: blocks) }

    /// Stores `rows` consecutive positions of keys and values for one sequence.
    /// - Parameters:
    ///   - k, v: pointers to `[rows, kvHeads, headDim]` (contiguous).
    ///   - table: the sequence's block table; it must cover `start + rows` positions.
    ///   - start: position of the first row.
    func write(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows: Int,
               table: [Int], start: Int) {
        let row = keyValueHeads * headDim
        keys[layer].withUnsafeSharedMutableBufferPointer { kd in
            values[layer].withUnsafeSharedMutableBufferPointer { vd in
                var i = 0
                while i < rows {
                    let p = start + i
                    let (block, offset) = (table[p / blockSize], p % blockSize)
                    let n = Swift.min(rows - i, blockSize - offset)  // rows that fit in this block
                    let at = (block * blockSize + offset) * row
                    (kd.baseAddress! + at).update(from: k + i * row, count: n * row)
                    (vd.baseAddress! + at).update(from: v + i * row, count: n * row)
                    i += n
                }
            }
        }
    }

    /// Copies positions `0..<length` of one sequence into contiguous `[1, length, kvHeads, headDim]` tensors
    /// (for chunked prefill, whose many queries make a BLAS attention over a contiguous copy pay).
    func gather(layer: Int, table: [Int], length: Int) -> (keys: Tensor, values: Tensor) {
        let row = keyValueHeads * headDim
        let k = Tensor(uninitializedShape: [1, length, keyValueHeads, headDim])
        let v = Tensor(uninitializedShape: [1, length, keyValueHeads, headDim])
        for (source, target) in [(keys[layer], k), (values[layer], v)] {
            source.withUnsafeBufferPointer { src in
                target.withUnsafeSharedMutableBufferPointer { dst in
                    var p = 0
                    while p < length {
                        let n = Swift.min(blockSize, length - p)
                        (dst.baseAddress! + p * row)
                            .update(from: src.baseAddress! + table[p / blockSize] * blockSize * row, count: n * row)
                        p += n
                    }
                }
            }
        }
        return (k, v)
    }
}
