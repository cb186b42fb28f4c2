import LoRAKitAdapters
import LoRAKitCore

/// An adapter's weights as trainable leaves, in a fixed order, keyed as in PEFT files
/// (`model.layers.0.self_attn.q_proj.lora_A.weight`).
///
/// Making them leaves replaces each variant's tensors by leaf tensors that share nothing else; the optimizer then
/// updates their buffers in place, so the variants see every step without being told.
public struct TrainableParameters {
    public struct Entry {
        public let key: String
        public let tensor: Tensor
        /// LoRA+ puts `lora_B` and vectors (DoRA's magnitude) in the group with the larger learning rate.
        public let isGroupB: Bool
    }

    public let entries: [Entry]

    public init(_ adapter: Adapter) {
        var entries: [Entry] = []
        for (module, variant) in adapter.modules {
            var leaves: [String: Tensor] = [:]
            for (suffix, tensor) in variant.parameters.sorted(by: { $0.key < $1.key }) {
                let key = module + "." + suffix
                let leaf = tensor.copied().requiringGrad(name: key)
                leaves[suffix] = leaf
                entries.append(Entry(key: key, tensor: leaf, isGroupB: suffix.contains("lora_B") || tensor.rank == 1))
            }
            variant.parameters = leaves
        }
        self.entries = entries
    }

    public var scalarCount: Int { entries.reduce(0) { $0 + $1.tensor.count } }

    public func zeroGrad() { for e in entries { e.tensor.zeroGrad() } }

    /// The global L2 norm of all gradients (missing gradients count as zero).
    public func gradientNorm() -> Double {
        var sum = 0.0
        for e in entries {
            guard let g = e.tensor.grad else { continue }
            g.withUnsafeBufferPointer { p in for v in p { sum += Double(v) * Double(v) } }
        }
        return sum.squareRoot()
    }
}
