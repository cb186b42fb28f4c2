import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit bench train [--json]`: LoRA training speed and memory, the same protocol as its peer
/// scripts/baselines/peft_train.py: fp32 base, LoRA on all linear layers, one fixed batch of random token ids
/// (labels = inputs), AdamW; the first step is a warm-up and is not timed. `--dtype bf16` keeps the frozen base in
/// bf16 (the adapter and its optimizer stay fp32).
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "LoRA training tokens/s and peak memory on a real model (the setup of scripts/baselines/peft_train.py)."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "Total steps; the first is a warm-up.") var steps: Int = 5
    @Option(name: .long, help: "LoRA rank.") var rank: Int = 16
    @Option(name: .long, help: "LoRA alpha.") var alpha: Double = 32
    @Option(name: .customLong("batch-size"), help: "Sequences per batch.") var batchSize: Int = 4
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.") var sequenceLength: Int = 256
    @Option(name: .long, help: "Target modules: all-linear or a comma list such as q_proj,v_proj.")
    var targets = "all-linear"
    @Flag(name: .customLong("grad-checkpoint"), help: "Recompute each layer in backward (less memory).")
    var gradientCheckpointing = false
    @Flag(name: .long, help: "Print one JSON line.") var json = false
    @OptionGroup var weights: WeightOptions
    @OptionGroup var runtime: RuntimeOptions

    struct Report: Encodable {
        let implementation = "lorakit"
        let train_tokens_per_s: Double
        let s_per_step: Double
        let peak_rss_mb: Double
        let threads: Int
        let timed_steps: Int
        let rank: Int, alpha: Double, targets: String, batch: Int, seq: Int
        let trainable_params: Int
        let loss_first: Double, loss_last: Double
        let grad_checkpoint: Bool
        let dtype: String
    }

    func validate() throws {
        guard steps >= 2 else { throw ValidationError("--steps must be ≥ 2 (the first step is a warm-up)") }
        guard rank >= 1, batchSize >= 1, sequenceLength >= 2 else {
            throw ValidationError("--rank and --batch-size must be ≥ 1 and --seq-len ≥ 2")
        }
    }

    func run() throws {
        runtime.apply()
        let lm = try modelOptions.load(dtype: weights.dtype)
        let model = lm.model
        let configuration = AdapterConfiguration(
            rank: rank, alpha: alpha, dropout: 0,
            targets: targets == "all-linear" ? .allLinear : .names(targets.split(separator: ",").map(String.init)))
        let adapter = try Adapter(name: "bench", configuration: configuration, for: model.linears, seed: 0)
        let set = AdapterSet(model.linears)
        try set.add(adapter)
        try set.activate(adapter.name)
        var random = SplitMix64(seed: 0)
        let vocab = UInt64(model.configuration.vocabularySize)
        let rows = (0..<batchSize).map { _ in
            let ids = (0..<sequenceLength).map { _ in Int32(3 + random.next() % (vocab - 3)) }
            return EncodedExample(ids: ids, lossMask: [false] + Array(repeating: true, count: sequenceLength - 1))
        }
        var options = TrainingOptions()
        options.steps = steps
        options.batchSize = batchSize
        options.maxGradientNorm = 0
        options.schedule = .constant
        options.checkpointLayers = gradientCheckpointing
        let trainer = try Trainer(model: model, adapter: adapter, train: rows, options: options)
        var metrics: [StepMetrics] = []
        for _ in 0..<steps {
            let m = trainer.step()
            metrics.append(m)
            FileHandle.standardError.write(Data(String(format: "step %d: loss %.4f, %.2f s\n", m.step - 1, m.loss,
                                                       m.seconds).utf8))
        }
        // validate() asks for at least 2 steps: a warm-up and at least one timed step.
        guard let first = metrics.first, let last = metrics.last, metrics.count >= 2 else {
            throw ValidationError("--steps must be ≥ 2 (the first step is a warm-up)")
        }
        let timed = metrics.dropFirst()
        let perStep = timed.map(\.seconds).reduce(0, +) / Double(timed.count)
        let report = Report(train_tokens_per_s: (Double(batchSize * sequenceLength) / perStep * 10).rounded() / 10,
                            s_per_step: (perStep * 1000).rounded() / 1000,
                            peak_rss_mb: (ProcessMemory.peakResidentMB() * 10).rounded() / 10,
                            threads: runtime.resolvedThreads, timed_steps: timed.count, rank: rank, alpha: alpha,
                            targets: targets, batch: batchSize, seq: sequenceLength,
                            trainable_params: trainer.parameters.scalarCount,
                            loss_first: (first.loss * 1e4).rounded() / 1e4,
                            loss_last: (last.loss * 1e4).rounded() / 1e4,
                            grad_checkpoint: gradientCheckpointing, dtype: weights.dtype.rawValue)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            writeOut(String(format: "train: %.1f tokens/s (%.2f s per step of %d tokens), peak RSS %.0f MB, %d threads\n",
                            report.train_tokens_per_s, perStep, batchSize * sequenceLength, report.peak_rss_mb,
                            report.threads))
        }
    }
}
