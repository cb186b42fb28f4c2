import LoRAKitCore

/// Keys and values of the tokens seen so far, per layer, so that decoding a token costs one position.
///
/// Each layer holds `[batch, capacity, kvHeads, headDim]` for keys and for values (the layout attention reads,
/// post-RoPE keys); ``length`` positions are filled. The buffers grow (doubling) when a write needs room.
public final class KVCache: @unchecked Sendable {
    public let batch: Int
    public let keyValueHeads: Int
    public let headDim: Int
    /// Positions each buffer can hold before it grows.
    public private(set) var capacity: Int
    /// Positions filled (the same in every layer between forward passes).
    public internal(set) var length: Int = 0
    /// Per layer: `[batch, capacity, kvHeads, headDim]`.
    public private(set) var keys: [Tensor]
    /// Per layer: `[batch, capacity, kvHeads, headDim]`.
    public private(set) var values: [Tensor]

    public init(layers: Int, batch: Int, capacity: Int, keyValueHeads: Int, headDim: Int) {
        self.batch = batch
        self.keyValueHeads = keyValueHeads
        self.headDim = headDim
        self.capacity = max(1, capacity)
        let shape = [batch, self.capacity, keyValueHeads, headDim]
        keys = (0..<layers).map { _ in Tensor.zeros(shape) }
        values = (0..<layers).map { _ in Tensor.zeros(shape) }
    }

    /// Forgets every position (the buffers are kept for reuse).
    public func reset() { length = 0 }

    /// Drops positions after `newLength` (e.g. to reuse a shared prompt prefix).
    public func truncate(to newLength: Int) { length = min(length, max(0, newLength)) }

    /// Makes room for `needed` positions, copying the filled part into larger buffers.
    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        let row = keyValueHeads * headDim
        func grow(_ old: Tensor) -> Tensor {
            let fresh = Tensor.zeros([batch, newCapacity, keyValueHeads, headDim])
            old.withUnsafeBufferPointer { src in
                fresh.withUnsafeSharedMutableBufferPointer { dst in
                    for b in 0..<batch {
                        (dst.baseAddress! + b * newCapacity * row)
                            .update(from: src.baseAddress! + b * capacity * row, count: length * row)
                    }
                }
            }
            return fresh
        }
        keys = keys.map(grow)
        values = values.map(grow)
        capacity = newCapacity
    }

    /// Stores `[batch, sequence, kvHeads, headDim]` keys and values at positions `offset ..< offset + sequence`.
    func write(layer: Int, keys k: Tensor, values v: Tensor, at offset: Int) {
        let t = k.shape[1]
        let row = keyValueHeads * headDim
        precondition(k.shape == [batch, t, keyValueHeads, headDim] && v.shape == k.shape && offset + t <= capacity,
                     "cache write \(k.shape) at \(offset) into capacity \(capacity)")  // invariant: reserve() ran
        for (source, target) in [(k, keys[layer]), (v, values[layer])] {
            source.withUnsafeBufferPointer { src in
                target.withUnsafeSharedMutableBufferPointer { dst in
                    for b in 0..<batch {
                        (dst.baseAddress! + (b * capacity + offset) * row)
                            .update(from: src.baseAddress! + b * t * row, count: t * row)
                    }
                }
            }
        }
    }
}
