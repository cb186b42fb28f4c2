import LoRAKitCore

/// A rectangular batch: `rows` sequences of `length` tokens, right-padded, with next-token targets.
public struct TrainingBatch: Sendable, Equatable {
    public let rows: Int
    public let length: Int
    /// `rows · length` token ids, row-major.
    public let ids: [Int32]
    /// `targets[i]` is the token position `i` must predict, or ``ignoreIndex``.
    public let targets: [Int32]

    /// Packs examples into one batch, padding with `padID`. Padding sits after each row's tokens, so causal
    /// attention never lets a real token see it, and its targets are ignored.
    public init(_ examples: [EncodedExample], padID: Int32) {
        precondition(!examples.isEmpty, "a batch needs at least one example")  // invariant: planners never make one
        rows = examples.count
        length = max(1, examples.map(\.ids.count).max() ?? 1)
        var ids = [Int32](repeating: padID, count: rows * length)
        var targets = [Int32](repeating: ignoreIndex, count: rows * length)
        for (r, example) in examples.enumerated() {
            let base = r * length
            for (j, id) in example.ids.enumerated() {
                ids[base + j] = id
                if j > 0 && example.lossMask[j] { targets[base + j - 1] = id }
            }
        }
        self.ids = ids
        self.targets = targets
        tokenCount = examples.reduce(0) { $0 + $1.ids.count }
    }

    /// Tokens the loss covers.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) } }

    /// Real (unpadded) tokens: what tokens/s counts.
    public let tokenCount: Int
}

/// The order of batches in each epoch: seeded, length-bucketed (examples of similar length share a batch, so little
/// is padding), and the same for the same seed and epoch — which is what exact resume relies on.
public struct BatchPlan: Sendable {
    public let batchSize: Int
    public let seed: UInt64
    let lengths: [Int]

    public init(lengths: [Int], batchSize: Int, seed: UInt64) {
        precondition(batchSize > 0 && !lengths.isEmpty, "a plan needs examples and a positive batch size")  // invariant
        self.lengths = lengths
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { (lengths.count + batchSize - 1) / batchSize }

    /// The example indices of every batch of `epoch`, in training order.
    public func batches(epoch: Int) -> [[Int]] {
        var random = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(lengths.indices)
        order.shuffle(using: &random)
        // Sort by length (stable, so ties keep the shuffled order), cut into batches, then shuffle the batches.
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset) })
        order.sort { (lengths[$0], rank[$0]!) < (lengths[$1], rank[$1]!) }
        var batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        batches.shuffle(using: &random)
        return batches
    }
}

/// Packing (`--pack`): examples joined end to end into rows of at most `length` tokens, each example whole (one
/// longer than a row gets a row of its own, already truncated by the encoder). As in TRL's default packing,
/// attention is not masked at example boundaries; the loss masks are kept.
public enum ExamplePacker {
    public static func pack(_ examples: [EncodedExample], length: Int) -> [EncodedExample] {
        var packed: [EncodedExample] = []
        var ids: [Int32] = [], mask: [Bool] = []
        for example in examples {
            if !ids.isEmpty && ids.count + example.ids.count > length {
                packed.append(EncodedExample(ids: ids, lossMask: mask))
                (ids, mask) = ([], [])
            }
            ids += example.ids
            mask += example.lossMask
        }
        if !ids.isEmpty { packed.append(EncodedExample(ids: ids, lossMask: mask)) }
        return packed
    }
}
