import Foundation
import LoRAKitCore
import LoRAKitFormats

extension LlamaConfiguration {
    /// Reads the hyper-parameters from GGUF metadata (`llama.*` keys; the vocabulary size is the tokenizer's
    /// token count, else `llama.vocab_size`, else the embedding's rows).
    /// - Throws: ``ModelLoadingError`` when the architecture is not Llama or a key is missing.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let arch = m.string("general.architecture") ?? "llama"
        guard arch == "llama" else { throw ModelLoadingError.unsupportedArchitecture(arch) }
        func int(_ key: String) throws -> Int {
            guard let v = m.int("llama.\(key)") else {
                throw ModelLoadingError.invalidConfiguration("GGUF metadata key 'llama.\(key)' is missing in \(gguf.path)")
            }
            return v
        }
        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let embeddingRows = gguf.tensors.first { $0.name == "token_embd.weight" }?.shape.first
        let vocab = m.array("tokenizer.ggml.tokens")?.count ?? m.int("llama.vocab_size") ?? embeddingRows ?? 0
        self.init(hiddenSize: hidden, intermediateSize: try int("feed_forward_length"), layerCount: try int("block_count"),
                  attentionHeads: heads, keyValueHeads: m.int("llama.attention.head_count_kv") ?? heads,
                  headDim: m.int("llama.attention.key_length") ?? m.int("llama.rope.dimension_count"),
                  vocabularySize: vocab,
                  rmsNormEpsilon: m.float("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
                  ropeTheta: m.float("llama.rope.freq_base") ?? 10000,
                  maxPositionEmbeddings: m.int("llama.context_length") ?? 2048,
                  tieWordEmbeddings: !gguf.contains("output.weight"))
    }

    /// Reads a Hugging Face `config.json`.
    /// - Throws: ``ModelLoadingError`` for unreadable JSON, a non-Llama `model_type` or missing fields.
    public init(huggingFaceConfig url: URL) throws {
        let object: [String: Any]
        do {
            let data = try Data(contentsOf: url)
            guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelLoadingError.unreadable(path: url.path, reason: "not a JSON object")
            }
            object = o
        } catch let error as ModelLoadingError {
            throw error
        } catch {
            throw ModelLoadingError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        let type = object["model_type"] as? String ?? "llama"
        guard ["llama", "mistral"].contains(type) else { throw ModelLoadingError.unsupportedArchitecture(type) }
        func int(_ key: String) throws -> Int {
            guard let v = (object[key] as? NSNumber)?.intValue else {
                throw ModelLoadingError.invalidConfiguration("'\(key)' is missing in \(url.path)")
            }
            return v
        }
        func float(_ key: String) -> Float? { (object[key] as? NSNumber)?.floatValue }
        let heads = try int("num_attention_heads")
        self.init(hiddenSize: try int("hidden_size"), intermediateSize: try int("intermediate_size"),
                  layerCount: try int("num_hidden_layers"), attentionHeads: heads,
                  keyValueHeads: (object["num_key_value_heads"] as? NSNumber)?.intValue ?? heads,
                  headDim: (object["head_dim"] as? NSNumber)?.intValue, vocabularySize: try int("vocab_size"),
                  rmsNormEpsilon: float("rms_norm_eps") ?? 1e-5, ropeTheta: float("rope_theta") ?? 10000,
                  maxPositionEmbeddings: (object["max_position_embeddings"] as? NSNumber)?.intValue ?? 2048,
                  tieWordEmbeddings: object["tie_word_embeddings"] as? Bool ?? false)
    }
}

extension LlamaModel {
    /// Loads a Llama GGUF file, dequantizing every tensor to `Float` (then to `dtype` for projections) and undoing
    /// the Q/K rotary permutation. Tensors are read one at a time.
    /// - Throws: ``ModelLoadingError`` or the GGUF reader's `FormatError`.
    public convenience init(gguf: GGUFFile, dtype: WeightDType = .float32) throws {
        let c = try LlamaConfiguration(gguf: gguf)
        try c.validate()
        var infos: [String: GGUFTensorInfo] = [:]
        for info in gguf.tensors {
            if let name = LlamaGGUFNames.huggingFaceName(for: info.name) { infos[name] = info }
        }
        try self.init(configuration: c, source: gguf.path, dtype: dtype) { name in
            guard let info = infos[name] else { return nil }
            var t = Tensor(uninitializedShape: info.shape)
            try t.withUnsafeMutableBufferPointer { try gguf.dequantize(info, into: $0) }
            if let heads = LlamaGGUFNames.permutedHeads(for: name, configuration: c) {
                let columns = info.shape.last ?? 1
                guard info.shape.count == 2, info.shape[0] % heads == 0, (info.shape[0] / heads) % 2 == 0 else {
                    throw ModelLoadingError.shapeMismatch(name: name, expected: [heads * c.headDim, c.hiddenSize],
                                                          found: info.shape)
                }
                t.withUnsafeMutableBufferPointer {
                    LlamaGGUFNames.unpermuteRotaryRows($0, heads: heads, columns: columns)
                }
            }
            return t
        }
    }

    /// Loads a GGUF file by path (see ``init(gguf:)``).
    public convenience init(ggufURL url: URL, dtype: WeightDType = .float32) throws {
        try self.init(gguf: try GGUFFile(url: url), dtype: dtype)
    }

    /// Loads a Hugging Face directory: `config.json` and every `*.safetensors` file (F32, F16, BF16 or F64).
    /// - Throws: ``ModelLoadingError``.
    public convenience init(huggingFaceDirectory directory: URL, dtype: WeightDType = .float32) throws {
        let c = try LlamaConfiguration(huggingFaceConfig: directory.appendingPathComponent("config.json"))
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else {
            throw ModelLoadingError.unreadable(path: directory.path, reason: "no *.safetensors file in the directory")
        }
        var entries: [String: (SafeTensorsFile, SafeTensorsTensorInfo)] = [:]
        for file in files {
            let reader = try SafeTensorsFile(url: directory.appendingPathComponent(file))
            for info in reader.tensors { entries[info.name] = (reader, info) }
        }
        try self.init(configuration: c, source: directory.path, dtype: dtype) { name in
            guard let (reader, info) = entries[name] else { return nil }
            var t = Tensor(uninitializedShape: info.shape)
            try t.withUnsafeMutableBufferPointer { try reader.floats(info, into: $0) }
            return t
        }
    }
}
