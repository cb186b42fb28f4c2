import Foundation
import LoRAKitAdapters
import LoRAKitFormats

/// A checkpoint folder: the adapter as PEFT writes it (so `--adapter CHECKPOINT` and PEFT both load it),
/// the AdamW moments, and the trainer's position and options. Written to a temporary folder and renamed into
/// place, so an interrupted write never leaves half a checkpoint.
///
/// ```
/// step-000100/
///   adapter_config.json, adapter_model.safetensors   PEFT
///   optimizer.safetensors                            <key>.exp_avg, <key>.exp_avg_sq (F32)
///   trainer_state.json                               {"state": …, "options": …, "optimizer_step": …}
/// ```
public enum TrainingCheckpoint {
    public static let optimizerName = "optimizer.safetensors"
    public static let stateName = "trainer_state.json"

    /// What a checkpoint holds, keyed by PEFT module keys without the `base_model.model.` prefix.
    public struct Contents {
        public var options: TrainingOptions
        public var state: TrainerState
        public var weights: [String: [Float]]
        public var moments: [String: (m: [Float], v: [Float])]
    }

    struct StateFile: Codable {
        var format = 1
        var state: TrainerState
        var optimizerStep: Int
        var options: TrainingOptions
    }

    /// Writes the trainer's checkpoint to `folder` (replacing one that is there).
    public static func write(_ trainer: Trainer, to folder: URL) throws {
        try StagedFolder.write(to: folder) { staging in
            try PEFTAdapterFile.write(trainer.adapter, into: staging)
            var writer = SafeTensorsWriter(metadata: ["format": "lorakit-adamw"])
            for (entry, moment) in zip(trainer.parameters.entries, trainer.optimizer.moments) {
                try writer.add(entry.key + ".exp_avg", shape: entry.tensor.shape, values: moment.m)
                try writer.add(entry.key + ".exp_avg_sq", shape: entry.tensor.shape, values: moment.v)
            }
            try writer.write(to: staging.appendingPathComponent(optimizerName))
            let file = StateFile(state: trainer.state, optimizerStep: trainer.optimizer.step, options: trainer.options)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(file).write(to: staging.appendingPathComponent(stateName))
        }
    }

    /// Reads a checkpoint folder.
    /// - Throws: ``TrainError`` naming the file that is missing or unreadable.
    public static func read(_ folder: URL) throws -> Contents {
        let stateURL = folder.appendingPathComponent(stateName)
        guard FileManager.default.fileExists(atPath: stateURL.path) else {
            throw TrainError("\(folder.path) is not a checkpoint (no \(stateName)); pass a folder such as "
                             + "RUN/checkpoints/step-000100, or the run folder to take its latest")
        }
        let file: StateFile
        do { file = try JSONDecoder().decode(StateFile.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainError("\(stateURL.path): unreadable trainer state (\(error.localizedDescription))")
        }
        func tensors(_ name: String) throws -> SafeTensorsFile {
            do { return try SafeTensorsFile(url: folder.appendingPathComponent(name)) } catch {
                throw TrainError("\(folder.appendingPathComponent(name).path): \(error)")
            }
        }
        let weightsFile = try tensors(PEFTAdapterFile.weightsName), optimizerFile = try tensors(optimizerName)
        var weights: [String: [Float]] = [:], moments: [String: (m: [Float], v: [Float])] = [:]
        let prefix = PEFTAdapterFile.keyPrefix
        for info in weightsFile.tensors where info.name.hasPrefix(prefix) {
            weights[String(info.name.dropFirst(prefix.count))] = try weightsFile.floats(info)
        }
        for info in optimizerFile.tensors where info.name.hasSuffix(".exp_avg") {
            let key = String(info.name.dropLast(".exp_avg".count))
            moments[key] = (try optimizerFile.floats(info), try optimizerFile.floats(key + ".exp_avg_sq"))
        }
        guard file.optimizerStep == file.state.step else {
            throw TrainError("\(stateURL.path): optimizer step \(file.optimizerStep) and trainer step \(file.state.step) differ")
        }
        return Contents(options: file.options, state: file.state, weights: weights, moments: moments)
    }

    /// The checkpoint to resume from: `url` itself, or the latest `checkpoints/step-*` of a run folder.
    public static func resolve(_ url: URL) throws -> URL {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(stateName).path) { return url }
        let dir = url.appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        guard let latest = names.filter({ $0.hasPrefix("step-") }).sorted().last else {
            throw TrainError("no checkpoint in \(url.path) (expected \(stateName) or checkpoints/step-*)")
        }
        return dir.appendingPathComponent(latest)
    }

    /// `checkpoints/step-000100` inside a run folder.
    public static func folder(in run: URL, step: Int) -> URL {
        run.appendingPathComponent("checkpoints").appendingPathComponent(String(format: "step-%06d", step))
    }
}
