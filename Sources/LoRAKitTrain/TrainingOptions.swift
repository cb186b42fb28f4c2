import Foundation

/// How a run trains: everything except the adapter's own shape (``AdapterConfiguration``) and the data.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps.
    public var steps = 200
    /// Examples per micro-batch.
    public var batchSize = 4
    /// Micro-batches per optimizer step (the effective batch is `batchSize · gradientAccumulation`).
    public var gradientAccumulation = 1
    public var learningRate = 1e-4
    public var schedule = LearningRateSchedule.Shape.cosine
    public var warmupSteps = 0
    /// The final learning rate as a fraction of the peak (linear and cosine).
    public var minimumLearningRateRatio = 0.0
    public var adam = AdamW.Hyperparameters()
    /// Clip the global gradient norm to this (0: no clipping).
    public var maxGradientNorm = 1.0
    public var seed: UInt64 = 0
    /// Validation loss every this many steps (0: only at the end).
    public var validateEvery = 50
    /// Validation batches per evaluation (0: the whole validation set).
    public var validationBatches = 0
    /// A checkpoint every this many steps (0: only at the end).
    public var saveEvery = 100
    /// Gradient checkpointing per decoder layer.
    public var checkpointLayers = false

    public init() {}

    public var learningRateSchedule: LearningRateSchedule {
        LearningRateSchedule(shape: schedule, peak: learningRate, warmupSteps: warmupSteps, totalSteps: steps,
                             minimumRatio: minimumLearningRateRatio)
    }

    /// Checks every value; messages name the flag to fix.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw TrainError(message) } }
        try check(steps > 0, "--iters must be > 0, got \(steps)")
        try check(batchSize > 0, "--batch-size must be > 0, got \(batchSize)")
        try check(gradientAccumulation > 0, "--grad-accum must be > 0, got \(gradientAccumulation)")
        try check(maxGradientNorm >= 0 && maxGradientNorm.isFinite, "--max-grad-norm must be >= 0 (0 turns clipping off)")
        try check(validateEvery >= 0, "--val-every must be >= 0")
        try check(validationBatches >= 0, "--val-batches must be >= 0")
        try check(saveEvery >= 0, "--save-every must be >= 0")
        try check(adam.weightDecay >= 0, "--weight-decay must be >= 0")
        try check(adam.loraPlusRatio > 0, "--lora-plus-ratio must be > 0 (1 is plain AdamW)")
        try check((0..<1).contains(adam.beta1) && (0..<1).contains(adam.beta2), "Adam betas must be in [0, 1)")
        try check(adam.epsilon > 0, "Adam epsilon must be > 0")
        do { try learningRateSchedule.validate() } catch { throw TrainError("\(error)") }
    }
}
