import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels

/// PEFT's adapter folder: `adapter_config.json` + `adapter_model.safetensors`, with keys such as
/// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`. What LoRAKit writes, PEFT loads; what PEFT
/// writes, LoRAKit loads.
public enum PEFTAdapterFile {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    /// The prefix PEFT's `PeftModel` puts before module names.
    public static let keyPrefix = "base_model.model."

    /// Loads a PEFT adapter folder onto a model's projections.
    /// - Parameters:
    ///   - url: the folder (or its `adapter_config.json`).
    ///   - linears: the base model's projections (`LlamaModel.linears`).
    /// - Throws: ``AdapterError`` naming the file, key or field at fault (missing file, corrupt data, shapes that
    ///   don't fit this base model, tensors that match no module).
    public static func load(from url: URL, for linears: [Linear], name: String? = nil,
                            outputHead: String? = "lm_head") throws -> Adapter {
        let folder = url.lastPathComponent == configName ? url.deletingLastPathComponent() : url
        let configURL = folder.appendingPathComponent(configName)
        let weightsURL = folder.appendingPathComponent(weightsName)
        let fm = FileManager.default
        guard fm.fileExists(atPath: configURL.path) else {
            throw AdapterError.unreadable(path: folder.path, reason: "no \(configName) (is this a PEFT adapter folder?)")
        }
        guard fm.fileExists(atPath: weightsURL.path) else {
            let hint = fm.fileExists(atPath: folder.appendingPathComponent("adapter_model.bin").path)
                ? "only adapter_model.bin (pickle) is there; re-save it with safetensors" : "the weights file is missing"
            throw AdapterError.unreadable(path: folder.path, reason: "no \(weightsName): \(hint)")
        }
        let configuration: AdapterConfiguration
        do {
            configuration = try AdapterConfiguration(json: Data(contentsOf: configURL))
        } catch let error as AdapterError {
            throw error
        } catch {
            throw AdapterError.unreadable(path: configURL.path, reason: error.localizedDescription)
        }
        guard configuration.modulesToSave.isEmpty else {
            throw AdapterError.unsupported(field: "modules_to_save", value: "\(configuration.modulesToSave)")
        }
        // The file's weights replace the fresh ones, so build with the default init: PiSSA/OLoRA would otherwise
        // run their decompositions and rewrite the base weights (a saved PiSSA/OLoRA adapter expects the base it
        // was trained on; PEFT converts such adapters to plain LoRA when saving with
        // `path_initial_model_for_weight_conversion`).
        var building = configuration
        building.initialization = .standard
        let adapter = try Adapter(name: name ?? folder.lastPathComponent, configuration: building, for: linears,
                                  outputHead: outputHead, seed: 0)
        adapter.configuration = configuration
        try loadWeights(from: folder, into: adapter)
        return adapter
    }

    /// Replaces an adapter's weights by those of a PEFT weights file (resume, or loading onto a fresh adapter).
    /// - Throws: ``AdapterError`` for a missing, misshapen or stray tensor, or an unreadable file.
    public static func loadWeights(from folder: URL, into adapter: Adapter) throws {
        let weightsURL = folder.appendingPathComponent(weightsName)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: weightsURL) } catch {
            throw AdapterError.unreadable(path: weightsURL.path, reason: "\(error)")
        }
        var unused = Set(file.tensors.map(\.name))
        for (module, variant) in adapter.modules {
            var values: [String: Tensor] = [:]
            for (suffix, current) in variant.parameters.sorted(by: { $0.key < $1.key }) {
                let key = keyPrefix + module + "." + suffix
                guard file.contains(key) else { throw AdapterError.missingWeight(key: key, file: weightsURL.path) }
                let info = try file.tensor(named: key)
                guard info.shape == current.shape else {
                    throw AdapterError.shapeMismatch(key: key, expected: current.shape, found: info.shape)
                }
                let scalars: [Float]
                do { scalars = try file.floats(info) } catch {
                    throw AdapterError.unreadable(path: weightsURL.path, reason: "\(error)")
                }
                values[suffix] = Tensor(scalars, shape: info.shape)
                unused.remove(key)
            }
            variant.parameters = values
        }
        if let stray = unused.sorted().first {
            throw AdapterError.unexpectedWeight(key: stray, file: weightsURL.path)
        }
    }

    /// Writes the adapter as PEFT does (F32 safetensors, sorted keys, `adapter_config.json`), into a temporary folder
    /// first and then renamed into place, so a failure leaves no partial adapter.
    /// - Throws: the writer's error, or ``AdapterError/unreadable(path:reason:)`` when the folder cannot be replaced.
    public static func save(_ adapter: Adapter, to folder: URL) throws {
        try StagedFolder.write(to: folder) { staging in try write(adapter, into: staging) }
    }

    /// Writes the two PEFT files into an existing folder (not atomically: see ``save(_:to:)``).
    public static func write(_ adapter: Adapter, into staging: URL) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (module, variant) in adapter.modules {
            for (suffix, tensor) in variant.parameters.sorted(by: { $0.key < $1.key }) {
                try writer.add(keyPrefix + module + "." + suffix, shape: tensor.shape, values: tensor.scalars)
            }
        }
        try writer.write(to: staging.appendingPathComponent(weightsName))
        var configuration = adapter.configuration
        configuration.markInference()
        try configuration.jsonData().write(to: staging.appendingPathComponent(configName))
    }
}
