import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels

/// Where a run is: enough, with the options, to continue it exactly.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer steps done.
    public var step = 0
    /// The next batch: `batchIndex` of `epoch`'s order.
    public var epoch = 0
    public var batchIndex = 0
    /// Real tokens trained on so far.
    public var trainedTokens = 0
}

/// What one optimizer step did.
public struct StepMetrics: Sendable, Equatable {
    /// 1-based: the number of steps done after this one.
    public var step: Int
    /// Mean loss per target token over the step's micro-batches.
    public var loss: Double
    public var learningRate: Double
    /// The global gradient norm before clipping.
    public var gradientNorm: Double
    public var tokens: Int
    public var seconds: Double
}

/// Trains one adapter on a model: AdamW (with LoRA+), a warm-up and decay schedule, gradient accumulation and
/// clipping, validation, and checkpoints that resume exactly.
///
/// Every random choice is a function of the seed and the step (batch order per epoch, dropout masks), so a run
/// resumed from a checkpoint computes the same losses as one that never stopped.
///
/// ```swift
/// let trainer = try Trainer(model: lm.model, adapter: adapter, train: examples, valid: held, options: options)
/// for _ in 0..<options.steps { print(trainer.step().loss) }
/// ```
public final class Trainer {
    public let model: LlamaModel
    public let adapter: Adapter
    public let options: TrainingOptions
    public let train: [EncodedExample]
    public let valid: [EncodedExample]
    public let padID: Int32
    public private(set) var state = TrainerState()
    public let parameters: TrainableParameters
    public let optimizer: AdamW
    let plan: BatchPlan
    private var epochOrder: (epoch: Int, batches: [[Int]])?

    /// - Parameters:
    ///   - adapter: attached to `model` and active (its weights become trainable leaves here).
    ///   - padID: the token that fills short rows (never trained on).
    /// - Throws: ``TrainError`` for invalid options or no training examples.
    public init(model: LlamaModel, adapter: Adapter, train: [EncodedExample], valid: [EncodedExample] = [],
                options: TrainingOptions, padID: Int32 = 0) throws {
        try options.validate()
        let usable = train.filter { $0.targetCount > 0 }
        guard !usable.isEmpty else {
            throw TrainError("no training example has a token to learn from (all are prompt only, or empty)")
        }
        self.model = model
        self.adapter = adapter
        self.options = options
        self.train = usable
        self.valid = valid.filter { $0.targetCount > 0 }
        self.padID = padID
        parameters = TrainableParameters(adapter)
        optimizer = AdamW(parameters, hyperparameters: options.adam)
        plan = BatchPlan(lengths: usable.map(\.ids.count), batchSize: options.batchSize, seed: options.seed)
    }

    public var isFinished: Bool { state.step >= options.steps }

    /// The next micro-batch in the seeded order (advancing the position).
    func nextBatch() -> TrainingBatch {
        if epochOrder?.epoch != state.epoch { epochOrder = (state.epoch, plan.batches(epoch: state.epoch)) }
        let indices = epochOrder!.batches[state.batchIndex]
        state.batchIndex += 1
        if state.batchIndex == epochOrder!.batches.count { (state.epoch, state.batchIndex) = (state.epoch + 1, 0) }
        return TrainingBatch(indices.map { train[$0] }, padID: padID)
    }

    /// One optimizer step over `gradientAccumulation` micro-batches.
    @discardableResult
    public func step() -> StepMetrics {
        let start = DispatchTime.now().uptimeNanoseconds
        let learningRate = options.learningRateSchedule.learningRate(at: state.step)
        let batches = (0..<options.gradientAccumulation).map { _ in nextBatch() }
        let targets = max(1, batches.reduce(0) { $0 + $1.targetCount })
        parameters.zeroGrad()
        var lossSum = 0.0
        for (micro, batch) in batches.enumerated() where batch.targetCount > 0 {
            for (index, entry) in adapter.modules.enumerated() {
                entry.variant.dropoutSeed = SplitMix64.mix(options.seed ^ UInt64(state.step &* 1_000_003 &+ micro)
                                                           &+ UInt64(index) &* 0x9E37_79B9)
            }
            let share = Float(batch.targetCount) / Float(targets)
            let loss = CausalLMLoss.loss(model: model, batch: batch, checkpointLayers: options.checkpointLayers)
            lossSum += Double(loss.scalar) * Double(batch.targetCount)
            loss.backward(seed: Tensor.filled(loss.shape, value: share))
        }
        let norm = parameters.gradientNorm()
        let clip = options.maxGradientNorm
        let scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1
        optimizer.update(learningRate: learningRate, gradientScale: scale)
        parameters.zeroGrad()
        let tokens = batches.reduce(0) { $0 + $1.tokenCount }
        state.step += 1
        state.trainedTokens += tokens
        return StepMetrics(step: state.step, loss: lossSum / Double(targets), learningRate: learningRate,
                           gradientNorm: norm, tokens: tokens,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Mean validation loss per target token (`nil` without validation data).
    public func validationLoss() -> Double? {
        guard !valid.isEmpty else { return nil }
        var examples = valid
        if options.validationBatches > 0 { examples = Array(valid.prefix(options.validationBatches * options.batchSize)) }
        return LossEvaluator.evaluate(model: model, examples: examples, batchSize: options.batchSize, padID: padID).meanLoss
    }

    /// Restores weights, optimizer and position from a checkpoint written by ``TrainingCheckpoint``.
    /// - Throws: ``TrainError`` when it belongs to another run (other options or adapter shape), or the files' errors.
    public func restore(from checkpoint: TrainingCheckpoint.Contents) throws {
        guard checkpoint.options == options else {
            throw TrainError("the checkpoint was made with other training options; resume with the same flags "
                             + "(see \(TrainingCheckpoint.stateName) in the checkpoint)")
        }
        for entry in parameters.entries {
            guard let values = checkpoint.weights[entry.key], values.count == entry.tensor.count else {
                throw TrainError("the checkpoint has no weights of the right shape for \(entry.key); it belongs to "
                                 + "another adapter configuration")
            }
            entry.tensor.withUnsafeSharedMutableBufferPointer { p in for i in 0..<p.count { p[i] = values[i] } }
        }
        try optimizer.restore(step: checkpoint.state.step, moments: checkpoint.moments)
        state = checkpoint.state
        epochOrder = nil
    }
}
