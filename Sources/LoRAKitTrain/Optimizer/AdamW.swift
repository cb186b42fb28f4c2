import Foundation
import LoRAKitCore

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, step for step as `torch.optim.AdamW`:
/// `p ← p·(1 − lr·wd)`, `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr·m̂/(√v̂ + ε)` with bias-corrected
/// `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
///
/// Parameters are updated in place. LoRA+ (Hayou et al., 2024) is a second learning rate for group-B parameters.
public final class AdamW {
    public struct Hyperparameters: Codable, Sendable, Equatable {
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var epsilon: Double = 1e-8
        public var weightDecay: Double = 0.01
        /// LoRA+: group B learns this many times faster (1 = plain AdamW).
        public var loraPlusRatio: Double = 1
        public init() {}
    }

    public let parameters: TrainableParameters
    public let hyperparameters: Hyperparameters
    /// Steps taken (`t` of the bias correction).
    public private(set) var step = 0
    /// First and second moments, one buffer per parameter, in ``TrainableParameters/entries`` order.
    public private(set) var moments: [(m: [Float], v: [Float])]

    public init(_ parameters: TrainableParameters, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.parameters = parameters
        self.hyperparameters = hyperparameters
        moments = parameters.entries.map { e in
            ([Float](repeating: 0, count: e.tensor.count), [Float](repeating: 0, count: e.tensor.count))
        }
    }

    /// One update from the accumulated gradients, each multiplied by `gradientScale` first (clipping).
    public func update(learningRate lr: Double, gradientScale: Double = 1) {
        step += 1
        let h = hyperparameters
        let (b1, b2) = (Float(h.beta1), Float(h.beta2))
        let correction1 = 1 - pow(h.beta1, Double(step)), correction2 = 1 - pow(h.beta2, Double(step))
        let scale = Float(gradientScale)
        for (index, entry) in parameters.entries.enumerated() {
            guard let grad = entry.tensor.grad else { continue }
            let groupLR = entry.isGroupB ? lr * h.loraPlusRatio : lr
            let decay = Float(1 - groupLR * h.weightDecay)
            let stepSize = Float(groupLR / correction1)
            let sqrtCorrection2 = Float(correction2.squareRoot()), eps = Float(h.epsilon)
            // Take the moments out while updating them: two nested accesses to `moments` would overlap.
            var (mo, ve) = moments[index]
            moments[index] = ([], [])
            defer { moments[index] = (mo, ve) }
            grad.withUnsafeBufferPointer { g in
                entry.tensor.withUnsafeSharedMutableBufferPointer { p in
                    mo.withUnsafeMutableBufferPointer { m in
                        ve.withUnsafeMutableBufferPointer { v in
                            for i in 0..<p.count {
                                let gi = g[i] * scale
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() / sqrtCorrection2 + eps)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Restores a saved state (resume).
    /// - Throws: ``TrainError`` when the saved state does not fit these parameters.
    public func restore(step: Int, moments saved: [String: (m: [Float], v: [Float])]) throws {
        var restored: [(m: [Float], v: [Float])] = []
        for entry in parameters.entries {
            guard let state = saved[entry.key], state.m.count == entry.tensor.count, state.v.count == entry.tensor.count
            else { throw TrainError("the checkpoint's optimizer state has no matching entry for \(entry.key)") }
            restored.append(state)
        }
        self.step = step
        moments = restored
    }
}
