import Foundation
import LoRAKitAdapters
import LoRAKitCore

/// Something a run reports as it goes (for the progress line).
public enum TrainingEvent {
    case step(StepMetrics, progress: TrainingProgress)
    case validation(step: Int, loss: Double)
    case checkpoint(step: Int, folder: URL)
}

/// Rates and estimates after a step.
public struct TrainingProgress: Sendable {
    public var totalSteps: Int
    /// Real tokens per second since this process started training.
    public var tokensPerSecond: Double
    public var secondsRemaining: Double
    public var peakRSSMB: Double
}

/// Where a run left its results.
public struct TrainingOutcome: Sendable {
    public var adapter: URL
    public var lastCheckpoint: URL
    public var metrics: URL
    public var lossCurve: URL
    public var steps: Int
    /// Stopped early by the caller (Ctrl-C); resume with the last checkpoint.
    public var interrupted: Bool
    public var finalLoss: Double?
    public var finalValidationLoss: Double?
}

/// A training run in a folder: the trainer plus checkpoints, `metrics.jsonl`, `loss.svg` and the final adapter.
///
/// ```
/// RUN/
///   adapter/                 the final adapter (PEFT format): lorakit generate --adapter RUN/adapter
///   checkpoints/step-N/      adapter + optimizer + trainer state; lorakit train --resume RUN
///   metrics.jsonl            one line per step and per validation
///   loss.svg                 training and validation loss
/// ```
public final class TrainingRun {
    public let directory: URL
    public let trainer: Trainer
    let metrics: MetricsLog

    /// Metrics lines already in the folder are kept up to the trainer's step (that of a restored checkpoint, 0 for a
    /// new run) and later ones dropped.
    public init(directory: URL, trainer: Trainer) throws {
        self.directory = directory
        self.trainer = trainer
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        metrics = try MetricsLog(url: directory.appendingPathComponent("metrics.jsonl"),
                                 keepingThrough: trainer.state.step)
    }

    public var adapterFolder: URL { directory.appendingPathComponent("adapter") }
    public var lossCurveURL: URL { directory.appendingPathComponent("loss.svg") }

    /// Trains to the last step, or until `shouldStop` says so after a step (then checkpoints and returns).
    public func run(shouldStop: () -> Bool = { false }, report: (TrainingEvent) -> Void = { _ in }) throws
        -> TrainingOutcome {
        let options = trainer.options
        let start = DispatchTime.now().uptimeNanoseconds
        let firstStep = trainer.state.step
        var tokensHere = 0
        var lastCheckpoint = TrainingCheckpoint.folder(in: directory, step: trainer.state.step)
        var lastValidation: Double?
        var lastLoss: Double?
        var interrupted = false
        while !trainer.isFinished {
            let m = trainer.step()
            lastLoss = m.loss
            tokensHere += m.tokens
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let progress = TrainingProgress(
                totalSteps: options.steps, tokensPerSecond: Double(tokensHere) / max(elapsed, 1e-9),
                secondsRemaining: elapsed / Double(m.step - firstStep) * Double(options.steps - m.step),
                peakRSSMB: ProcessMemory.peakResidentMB())
            var record = MetricsRecord(step: m.step, loss: m.loss)
            record.learningRate = m.learningRate
            record.gradientNorm = m.gradientNorm
            record.tokensPerSecond = Double(m.tokens) / m.seconds
            record.trainedTokens = trainer.state.trainedTokens
            record.elapsedSeconds = elapsed
            record.peakRSSMB = progress.peakRSSMB
            try metrics.append(record)
            report(.step(m, progress: progress))
            let last = trainer.isFinished
            if (options.validateEvery > 0 && m.step % options.validateEvery == 0) || last,
               let loss = trainer.validationLoss() {
                lastValidation = loss
                try metrics.append(MetricsRecord(step: m.step, validationLoss: loss))
                report(.validation(step: m.step, loss: loss))
            }
            interrupted = !last && shouldStop()
            if (options.saveEvery > 0 && m.step % options.saveEvery == 0) || last || interrupted {
                lastCheckpoint = TrainingCheckpoint.folder(in: directory, step: m.step)
                try TrainingCheckpoint.write(trainer, to: lastCheckpoint)
                try writeCurve()
                report(.checkpoint(step: m.step, folder: lastCheckpoint))
            }
            if interrupted { break }
        }
        try PEFTAdapterFile.save(trainer.adapter, to: adapterFolder)
        try writeCurve()
        return TrainingOutcome(adapter: adapterFolder, lastCheckpoint: lastCheckpoint, metrics: metrics.url,
                               lossCurve: lossCurveURL, steps: trainer.state.step, interrupted: interrupted,
                               finalLoss: lastLoss, finalValidationLoss: lastValidation)
    }

    private func writeCurve() throws {
        let svg = LossCurve.svg(metrics.records, title: "\(directory.lastPathComponent): loss per step")
        try Data(svg.utf8).write(to: lossCurveURL, options: .atomic)
    }
}
