import Foundation
import LoRAKitFormats

/// What `lorakit inspect ADAPTER` shows: type, rank, alpha, targets, parameter count and size on disk, read from the
/// PEFT folder alone (no base model needed).
public struct AdapterSummary: Codable, Sendable {
    public let path: String
    public let kind: String
    public let rank: Int
    public let alpha: Double
    public let scaling: Double
    public let useRSLoRA: Bool
    public let targetModules: String
    public let baseModel: String?
    /// Adapted modules found in the weights file.
    public let modules: [String]
    public let parameters: Int
    public let bytesOnDisk: Int

    /// Reads `adapter_config.json` and the safetensors header of a PEFT adapter folder.
    /// - Throws: ``AdapterError`` naming the file at fault.
    public init(folder: URL) throws {
        let configURL = folder.appendingPathComponent(PEFTAdapterFile.configName)
        let weightsURL = folder.appendingPathComponent(PEFTAdapterFile.weightsName)
        guard let data = try? Data(contentsOf: configURL) else {
            throw AdapterError.unreadable(path: folder.path, reason: "no \(PEFTAdapterFile.configName) (is this a PEFT adapter folder?)")
        }
        let config = try AdapterConfiguration(json: data)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: weightsURL) } catch {
            throw AdapterError.unreadable(path: weightsURL.path, reason: "\(error)")
        }
        path = folder.path
        kind = AdapterKind.of(config).rawValue
        rank = config.rank
        alpha = config.alpha
        scaling = config.scaling(rank: config.rank, alpha: config.alpha)
        useRSLoRA = config.useRSLoRA
        switch config.targets {
        case .names(let names): targetModules = names.joined(separator: ", ")
        case .regex(let pattern): targetModules = "regex \(pattern)"
        case .allLinear: targetModules = "all-linear"
        }
        baseModel = config.baseModelNameOrPath
        var found = Set<String>()
        for info in file.tensors {
            var name = info.name
            if name.hasPrefix(PEFTAdapterFile.keyPrefix) { name.removeFirst(PEFTAdapterFile.keyPrefix.count) }
            for suffix in [".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector"] where name.hasSuffix(suffix) {
                found.insert(String(name.dropLast(suffix.count)))
            }
        }
        modules = found.sorted()
        parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        let sizes = [configURL, weightsURL].map { (try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int) ?? 0 }
        bytesOnDisk = sizes.reduce(0, +)
    }
}
