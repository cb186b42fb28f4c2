import ArgumentParser
import Foundation
import LoRAKit

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold LoRA/DoRA adapters into the base weights and write a standalone GGUF model.",
        discussion: """
            The output keeps the base model's tokenizer, chat template and hyper-parameters, with every weight
            matrix stored as F16 (default) or F32. It loads in LoRAKit (`--model OUT.gguf`) and in llama.cpp.
            Example: lorakit merge --model smollm2-135m --adapter ./my-adapter --out merged.gguf
            """
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "The GGUF file to write.") var out: String
    @Option(name: .long, help: "Weight storage type: f16 or f32.") var dtype: String = "f16"
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard MergedModelWriter.WeightType(rawValue: dtype) != nil else {
            throw ValidationError("--dtype must be f16 or f32, got '\(dtype)'")
        }
        guard !modelOptions.adapters.isEmpty else {
            throw ValidationError("give at least one --adapter PATH[:SCALE] to merge")
        }
        guard out.hasSuffix(".gguf") else { throw ValidationError("--out must name a .gguf file, got '\(out)'") }
    }

    func run() throws {
        runtime.apply()
        let source = try ModelStore().resolve(modelOptions.model)
        guard source.pathExtension == "gguf" else {
            throw ValidationError("merge writes GGUF from a GGUF base model; \(source.path) is not a .gguf file")
        }
        let lm = try LanguageModel.load(source)
        let set = AdapterSet(lm.model.linears)
        let adapters = try set.loadAndActivate(try modelOptions.adapters.map(AdapterSpec.init(parsing:)))
        let weights = set.active
        for (adapter, entry) in zip(adapters, weights) { try set.merge(adapter.name, weight: entry.weight) }
        let url = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        try MergedModelWriter.writeGGUF(lm.model, metadataFrom: try GGUFFile(url: source), to: url,
                                        type: MergedModelWriter.WeightType(rawValue: dtype) ?? .f16)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        print("merged \(adapters.map(\.name).joined(separator: ", ")) into \(url.path) (\(dtype), "
              + String(format: "%.1f MB)", Double(size) / 1e6))
        print("try it: lorakit generate --model \(url.path) --chat --prompt \"Hello\"")
    }
}
