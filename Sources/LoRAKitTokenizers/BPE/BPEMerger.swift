/// The merge loop of byte-level BPE over token ids: a min-heap of candidate pairs keyed by (rank, position)
/// over a doubly linked list of symbols, as in Hugging Face `tokenizers`' `Word::merge_all`.
///
/// Cost: O(n log n) per word of n bytes. Scratch arrays are reused across words of one encode call.
struct BPEMerger {
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    let merges: [UInt64: UInt64]
    /// Id of the single-byte token of each byte, -1 when the vocabulary lacks it.
    let byteTokenID: [Int32]

    private var ids: [Int32] = []
    private var prev: [Int32] = []
    private var next: [Int32] = []
    private var heap: [UInt64] = []  // (rank << 32 | position), min-heap

    init(merges: [UInt64: UInt64], byteTokenID: [Int32]) {
        self.merges = merges
        self.byteTokenID = byteTokenID
    }

    @inline(__always)
    private func lookup(_ a: Int32, _ b: Int32) -> UInt64? {
        merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))]
    }

    /// Appends the BPE tokens of one word (raw UTF-8 bytes) to `out`.
    mutating func merge(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        ids.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        // Bytes without a token are dropped, as the reference does when the model has no unknown token.
        for b in bytes {
            let id = byteTokenID[Int(b)]
            if id >= 0 { ids.append(id) }
        }
        let n = ids.count
        if n == 0 { return }
        if n == 1 { out.append(ids[0]); return }
        for i in 0..<n {
            prev.append(Int32(i - 1))
            next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        for i in 0..<(n - 1) {
            if let m = lookup(ids[i], ids[i + 1]) { push((m & 0xFFFF_FFFF_0000_0000) | UInt64(i)) }
        }
        while let top = pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard ids[pos] >= 0 else { continue }
            let r = Int(next[pos])
            guard r >= 0, let m = lookup(ids[pos], ids[r]), m >> 32 == rank else { continue }
            // Merge r into pos.
            ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            ids[r] = -1
            let rn = next[r]
            next[pos] = rn
            if rn >= 0 { prev[Int(rn)] = Int32(pos) }
            let p = Int(prev[pos])
            if p >= 0, let m2 = lookup(ids[p], ids[pos]) { push((m2 & 0xFFFF_FFFF_0000_0000) | UInt64(p)) }
            if rn >= 0, let m2 = lookup(ids[pos], ids[Int(rn)]) {
                push((m2 & 0xFFFF_FFFF_0000_0000) | UInt64(pos))
            }
        }
        var i = 0
        while i >= 0 && i < n {
            out.append(ids[i])
            i = Int(next[i])
        }
    }

    private mutating func push(_ key: UInt64) {
        heap.append(key)
        var c = heap.count - 1
        while c > 0 {
            let p = (c - 1) >> 1
            if heap[p] <= heap[c] { break }
            heap.swapAt(p, c)
            c = p
        }
    }

    private mutating func pop() -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var p = 0
        let count = heap.count
        while true {
            let l = 2 * p + 1
            if l >= count { break }
            var c = l
            if l + 1 < count && heap[l + 1] < heap[l] { c = l + 1 }
            if heap[p] <= heap[c] { break }
            heap.swapAt(p, c)
            p = c
        }
        return top
    }
}
