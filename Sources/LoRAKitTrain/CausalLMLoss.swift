import Foundation
import LoRAKitCore
import LoRAKitModels

/// The causal language-modelling loss of a batch: mean next-token cross-entropy over its targets (what
/// transformers computes for `labels`, and PEFT trains on).
public enum CausalLMLoss {
    /// - Parameters:
    ///   - checkpointLayers: recompute each layer during backward instead of keeping its activations.
    /// - Returns: a scalar that records autograd history when adapter weights require grad.
    ///
    /// Only positions with a target reach the vocabulary head (prompt tokens cost no head GEMM), and the head's
    /// cross-entropy runs in vocabulary chunks, so the `[tokens, vocab]` logits are never all in memory.
    public static func loss(model: LlamaModel, batch: TrainingBatch, checkpointLayers: Bool = false) -> Tensor {
        let hidden = model.hiddenStates(batch.ids, batch: batch.rows, checkpointLayers: checkpointLayers)
        let flat = hidden.reshaped([batch.rows * batch.length, model.configuration.hiddenSize])
        var rows: [Int32] = [], targets: [Int32] = []
        for (i, t) in batch.targets.enumerated() where t != ignoreIndex {
            rows.append(Int32(i))
            targets.append(t)
        }
        guard !rows.isEmpty else { return Tensor(scalar: 0) }
        let selected = rows.count == flat.shape[0] ? flat : embedding(flat, ids: rows)
        let head = model.lmHead
        if head.adapters.isEmpty {
            switch head.storage {
            case .float32(let weight): return linearCrossEntropy(hidden: selected, weight: weight, targets: targets)
            case .bfloat16(let weight): return linearCrossEntropy(hidden: selected, weight: weight, targets: targets)
            }
        }
        return crossEntropy(logits: head(selected), targets: targets)
    }
}

/// Loss and perplexity of a model (with whatever adapters are active) on encoded examples, without gradients.
public enum LossEvaluator {
    /// - Returns: the mean loss per target token over all examples and the number of target tokens.
    public static func evaluate(model: LlamaModel, examples: [EncodedExample], batchSize: Int,
                                padID: Int32 = 0) -> (meanLoss: Double, targetTokens: Int) {
        guard !examples.isEmpty else { return (0, 0) }
        let plan = BatchPlan(lengths: examples.map(\.ids.count), batchSize: max(1, batchSize), seed: 0)
        var total = 0.0, count = 0
        withNoGrad {
            for indices in plan.batches(epoch: 0) {
                let batch = TrainingBatch(indices.map { examples[$0] }, padID: padID)
                let n = batch.targetCount
                guard n > 0 else { continue }
                total += Double(CausalLMLoss.loss(model: model, batch: batch).scalar) * Double(n)
                count += n
            }
        }
        return (count > 0 ? total / Double(count) : 0, count)
    }
}
