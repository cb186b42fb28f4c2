import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit train`: fine-tunes a LoRA adapter on JSONL data (see docs/training.md).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a LoRA/DoRA adapter on JSONL data, with validation, checkpoints and exact resume.",
        discussion: """
        DATA is a folder with train.jsonl (and valid.jsonl, test.jsonl) or one .jsonl file; each line is \
        {"text"}, {"prompt","completion"} or {"messages":[…]}. Results go to --out: adapter/ (PEFT format), \
        checkpoints/step-N/, metrics.jsonl and loss.svg. Ctrl-C writes a checkpoint and stops; \
        --resume RUN continues exactly. Settings can come from --config FILE (flat YAML or JSON, keys named as \
        the flags); flags win. Defaults are shown in brackets.
        """
    )

    // Data and model.
    @Option(help: "Model name or path [smollm2-135m].") var model: String?
    @Option(help: "Frozen base weights: fp32 (exact) or bf16 (half the memory, AVX512_BF16 GEMMs; the adapter stays fp32) [fp32].")
    var dtype: String?
    @Option(help: "Data folder (train.jsonl, valid.jsonl) or a .jsonl file.") var data: String?
    @Option(help: "Run folder for the adapter, checkpoints and metrics [runs/lora].") var out: String?
    @Option(name: .customLong("valid-split"), help: "Hold out this fraction for validation when there is no valid.jsonl [0].")
    var validSplit: Double?
    @Option(name: .customLong("max-seq-len"), help: "Cut longer examples to this many tokens (with a warning) [1024].")
    var maxSeqLen: Int?
    @Flag(name: .customLong("train-on-prompt"), help: "Train on prompt and user tokens too (default: completions only).")
    var trainOnPrompt = false
    @Flag(help: "Pack several examples into each row of --max-seq-len tokens.") var pack = false
    // Adapter.
    @Option(help: "LoRA rank r [8].") var rank: Int?
    @Option(help: "LoRA alpha; the scaling is alpha/r (alpha/√r with --rslora) [16].") var alpha: Double?
    @Option(help: "Dropout on the adapter input [0].") var dropout: Double?
    @Option(help: "Target modules: a comma list (q_proj,v_proj), all-linear, or one regular expression [q_proj,v_proj].")
    var targets: String?
    @Option(help: "Modules to leave out (comma list).") var exclude: String?
    @Option(help: "Only these layer indices (comma list).") var layers: String?
    @Option(name: .customLong("rank-pattern"), help: "Per-module ranks, NAME=R comma list (e.g. down_proj=32).")
    var rankPattern: String?
    @Option(name: .customLong("alpha-pattern"), help: "Per-module alphas, NAME=ALPHA comma list.") var alphaPattern: String?
    @Flag(help: "Rank-stabilised scaling alpha/√r.") var rslora = false
    @Flag(help: "DoRA: a trained magnitude per output feature.") var dora = false
    @Option(help: "Initialisation: default, gaussian, pissa, pissa_niter_N, olora [default].") var `init`: String?
    // Optimisation.
    @Option(help: "Optimizer steps [200].") var iters: Int?
    @Option(name: .customLong("batch-size"), help: "Examples per micro-batch [4].") var batchSize: Int?
    @Option(name: .customLong("grad-accum"), help: "Micro-batches per step [1].") var gradAccum: Int?
    @Option(help: "Peak learning rate [1e-4].") var lr: Double?
    @Option(name: .customLong("lora-plus-ratio"), help: "LoRA+: learning-rate ratio of B to A (e.g. 16) [1].")
    var loraPlusRatio: Double?
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay [0.01].") var weightDecay: Double?
    @Option(help: "Learning-rate schedule: constant, linear or cosine [cosine].") var schedule: String?
    @Option(help: "Warm-up steps [0].") var warmup: Int?
    @Option(name: .customLong("min-lr-ratio"), help: "Final learning rate as a fraction of the peak [0].")
    var minLRRatio: Double?
    @Option(name: .customLong("max-grad-norm"), help: "Clip the gradient norm (0: off) [1].") var maxGradNorm: Double?
    @Option(help: "Seed of the initialisation, batch order and dropout [0].") var seed: Int?
    @Option(name: .customLong("val-every"), help: "Validation loss every N steps (0: at the end) [50].") var valEvery: Int?
    @Option(name: .customLong("val-batches"), help: "Validation batches per evaluation (0: all) [0].") var valBatches: Int?
    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps (0: at the end) [100].") var saveEvery: Int?
    @Flag(name: .customLong("grad-checkpoint"), help: "Recompute each layer in backward: less memory, ~30% more time.")
    var gradCheckpoint = false
    // Run control.
    @Option(help: "A run config file (flat YAML or JSON; keys named as the flags).") var config: String?
    @Option(help: "Continue a run: its folder (latest checkpoint) or a checkpoints/step-N folder.") var resume: String?
    @OptionGroup var runtime: RuntimeOptions

    /// The settings given on the command line.
    var flags: [String: JSONValue] {
        var f: [String: JSONValue] = [:]
        func put(_ key: String, _ value: JSONValue?) { if let value { f[key] = value } }
        put("model", model.map(JSONValue.string)); put("dtype", dtype.map(JSONValue.string))
        put("data", data.map(JSONValue.string))
        put("out", out.map(JSONValue.string)); put("valid-split", validSplit.map(JSONValue.double))
        put("max-seq-len", maxSeqLen.map(JSONValue.int))
        put("train-on-prompt", trainOnPrompt ? .bool(true) : nil); put("pack", pack ? .bool(true) : nil)
        put("rank", rank.map(JSONValue.int)); put("alpha", alpha.map(JSONValue.double))
        put("dropout", dropout.map(JSONValue.double)); put("targets", targets.map(JSONValue.string))
        put("exclude", exclude.map(JSONValue.string)); put("layers", layers.map(JSONValue.string))
        put("rank-pattern", rankPattern.map(JSONValue.string)); put("alpha-pattern", alphaPattern.map(JSONValue.string))
        put("rslora", rslora ? .bool(true) : nil); put("dora", dora ? .bool(true) : nil)
        put("init", `init`.map(JSONValue.string)); put("iters", iters.map(JSONValue.int))
        put("batch-size", batchSize.map(JSONValue.int)); put("grad-accum", gradAccum.map(JSONValue.int))
        put("lr", lr.map(JSONValue.double)); put("lora-plus-ratio", loraPlusRatio.map(JSONValue.double))
        put("weight-decay", weightDecay.map(JSONValue.double)); put("schedule", schedule.map(JSONValue.string))
        put("warmup", warmup.map(JSONValue.int)); put("min-lr-ratio", minLRRatio.map(JSONValue.double))
        put("max-grad-norm", maxGradNorm.map(JSONValue.double)); put("seed", seed.map(JSONValue.int))
        put("val-every", valEvery.map(JSONValue.int)); put("val-batches", valBatches.map(JSONValue.int))
        put("save-every", saveEvery.map(JSONValue.int))
        put("grad-checkpoint", gradCheckpoint ? .bool(true) : nil)
        return f
    }

    func run() throws {
        runtime.apply()
        var fileSettings: [String: JSONValue] = [:]
        if let config { fileSettings = try RunConfigFile.read(URL(fileURLWithPath: config)) }
        var resumeFolder: URL?
        if let resume {
            resumeFolder = try TrainingCheckpoint.resolve(URL(fileURLWithPath: resume))
            // A resumed run keeps its recorded settings; flags may only repeat them.
            let recorded = resumeFolder!.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("run.json")
            if config == nil, FileManager.default.fileExists(atPath: recorded.path) {
                fileSettings = try RunConfigFile.read(recorded)
            }
        }
        let settings = try TrainSettings(flags: flags, file: fileSettings)
        guard let dataPath = try settings.string("data") else {
            throw TrainError("no training data: pass --data DIR (train.jsonl, valid.jsonl) or --data FILE.jsonl")
        }
        let options = try settings.options
        let outDir = URL(fileURLWithPath: try settings.string("out") ?? "runs/lora")
        if resumeFolder == nil,
           FileManager.default.fileExists(atPath: outDir.appendingPathComponent("checkpoints").path) {
            throw TrainError("\(outDir.path) already holds a run; continue it with --resume \(outDir.path) "
                             + "or choose another --out")
        }
        let modelName = try settings.string("model") ?? "smollm2-135m"
        guard let weightType = WeightDType(name: try settings.string("dtype") ?? "fp32") else {
            throw TrainError("--dtype must be fp32 or bf16")
        }
        let lm = try LanguageModel.load(try ModelStore().resolve(modelName), dtype: weightType)
        let dataset = try TrainingData.load(URL(fileURLWithPath: dataPath), validSplit: try settings.double("valid-split"),
                                            seed: options.seed)
        let maxLength = try settings.int("max-seq-len")
        guard maxLength >= 2 else { throw TrainError("--max-seq-len must be at least 2") }
        let encoder = ExampleEncoder(languageModel: lm, trainOnPrompt: try settings.bool("train-on-prompt"),
                                     maxSequenceLength: maxLength)
        var train = try encode(dataset.train, with: encoder, name: "training")
        let valid = try encode(dataset.valid, with: encoder, name: "validation")
        if try settings.bool("pack") { train = ExamplePacker.pack(train, length: maxLength) }

        let configuration = try settings.adapterConfiguration(baseModel: modelName)
        let adapter = try Adapter(name: "adapter", configuration: configuration, for: lm.model.linears, seed: options.seed)
        let set = AdapterSet(lm.model.linears)
        try set.add(adapter)
        try set.activate(adapter.name)
        let pad = lm.tokenizer.padTokenID ?? lm.tokenizer.eosTokenID ?? 0
        let trainer = try Trainer(model: lm.model, adapter: adapter, train: train, valid: valid, options: options,
                                  padID: pad)
        if let resumeFolder {
            try trainer.restore(from: try TrainingCheckpoint.read(resumeFolder))
            note("resuming from \(resumeFolder.path) at step \(trainer.state.step) of \(options.steps)")
        }
        let run = try TrainingRun(directory: outDir, trainer: trainer)
        try writeSettings(settings, to: outDir.appendingPathComponent("run.json"))
        note("training \(adapter.modules.count) modules, \(trainer.parameters.scalarCount) parameters, "
             + "\(train.count) examples (\(valid.count) for validation), \(options.steps) steps of "
             + "\(options.batchSize)×\(options.gradientAccumulation) → \(outDir.path)")
        let stop = InterruptFlag()
        let display = ProgressDisplay()
        let outcome = try run.run(shouldStop: { stop.isSet }) { display.show($0) }
        display.finish()
        summarize(outcome, modelName: modelName, data: dataPath)
    }

    private func encode(_ examples: [TrainingExample], with encoder: ExampleEncoder, name: String) throws
        -> [EncodedExample] {
        let encoded = try examples.map(encoder.encode)
        let cut = encoded.indices.filter { encoded[$0].truncated }
        if let first = cut.first {
            note("warning: \(cut.count) of \(encoded.count) \(name) examples are longer than --max-seq-len "
                 + "\(encoder.maxSequenceLength) tokens and were cut (the first is example \(first + 1))")
        }
        let empty = encoded.filter { $0.targetCount == 0 }.count
        if empty > 0 { note("warning: \(empty) \(name) examples have no tokens to learn from and are skipped") }
        return encoded
    }

    private func writeSettings(_ settings: TrainSettings, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(JSONValue.object(settings.values)).write(to: url, options: .atomic)
    }

    private func summarize(_ outcome: TrainingOutcome, modelName: String, data: String) {
        let run = outcome.adapter.deletingLastPathComponent().path
        var lines: [String] = []
        if outcome.interrupted {
            lines.append("stopped at step \(outcome.steps); continue with: lorakit train --resume \(run)")
        } else {
            lines.append("done: \(outcome.steps) steps"
                         + (outcome.finalLoss.map { String(format: ", last loss %.4f", $0) } ?? "")
                         + (outcome.finalValidationLoss.map { String(format: ", validation loss %.4f", $0) } ?? ""))
        }
        lines += [
            "  adapter (PEFT):  \(outcome.adapter.path)",
            "  checkpoint:      \(outcome.lastCheckpoint.path)",
            "  metrics:         \(outcome.metrics.path)",
            "  loss curve:      \(outcome.lossCurve.path)",
            "use it:",
            "  lorakit generate --model \(modelName) --adapter \(outcome.adapter.path) --chat --prompt \"…\"",
            "  lorakit eval --model \(modelName) --adapter \(outcome.adapter.path) --data \(data)",
            "  lorakit merge --model \(modelName) --adapter \(outcome.adapter.path) --out merged.gguf",
        ]
        writeOut(lines.joined(separator: "\n") + "\n")
    }
}

/// Ctrl-C during training: the first asks the run to checkpoint and stop after the current step, a second quits.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            lock.lock()
            let again = set
            set = true
            lock.unlock()
            if again { note("\ninterrupted again: quitting without a checkpoint"); exit(130) }
            note("\ninterrupted: writing a checkpoint after this step (Ctrl-C again to quit now)")
        }
        source.resume()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return set
    }
}

/// Writes a line to standard error.
func note(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
