import ArgumentParser
import Foundation
import LoRAKit

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold LoRA/DoRA adapters into the base weights and write a standalone model (GGUF or Hugging Face).",
        discussion: """
            --out NAME.gguf writes a GGUF file (loads in LoRAKit and llama.cpp); any other --out writes a Hugging Face
            folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) that transformers loads.
            Both keep the base model's tokenizer, chat template and hyper-parameters; weight matrices are F16 or F32.
            Example: lorakit merge --model smollm2-135m --adapter ./my-adapter --out merged.gguf
            """
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "A .gguf file, or a folder for a Hugging Face model.") var out: String
    @Option(name: .long, help: "Weight storage type: f16 or f32 (default: f16 for GGUF, f32 for Hugging Face).")
    var dtype: String?
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let dtype, MergedModelWriter.WeightType(rawValue: dtype) == nil {
            throw ValidationError("--dtype must be f16 or f32, got '\(dtype)'")
        }
        guard !modelOptions.adapters.isEmpty else {
            throw ValidationError("give at least one --adapter PATH[:SCALE] to merge")
        }
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
        let gguf = try GGUFFile(url: source)
        let asGGUF = url.pathExtension == "gguf"
        let type = MergedModelWriter.WeightType(rawValue: dtype ?? (asGGUF ? "f16" : "f32")) ?? .f32
        if asGGUF {
            try MergedModelWriter.writeGGUF(lm.model, metadataFrom: gguf, to: url, type: type)
        } else {
            try MergedModelWriter.writeHuggingFace(lm.model, vocabulary: try GGUFTokenizerLoader.vocabulary(from: gguf),
                                                   to: url, type: type)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        print("merged \(adapters.map(\.name).joined(separator: ", ")) into \(url.path) (\(type.rawValue)"
              + (asGGUF ? String(format: ", %.1f MB)", Double(size) / 1e6) : ")"))
        print("try it: lorakit generate --model \(url.path) --chat --prompt \"Hello\"")
    }
}
