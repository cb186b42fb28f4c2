import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit serve`: the OpenAI-compatible server, many adapters at once (docs/serve.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model and its adapters over an OpenAI-compatible HTTP API (continuous batching).",
        discussion: """
            Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions (stream: true for server-sent \
            events), POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter, GET /health, GET /metrics. A request's \
            "model" names the base model or an adapter: a subfolder of --adapter-dir, or one loaded at run time. \
            SIGTERM or Ctrl-C stops accepting requests and finishes those in flight. See docs/serve.md.
            """)

    @Option(name: .long, help: "A pulled model's name (e.g. smollm2-135m) or a path to a .gguf file or a Hugging Face directory.")
    var model: String = "smollm2-135m"

    @Option(name: .customLong("served-model-name"), help: "The base model's name in requests and /v1/models (default: --model's name).")
    var servedModelName: String?

    @Option(name: .customLong("adapter-dir"), help: "A folder of PEFT adapter folders, each served under its folder name, loaded on first use.")
    var adapterDir: String?

    @Option(name: .long, help: "Address to listen on (0.0.0.0 for every interface).")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 8000

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1/* (default: the LORAKIT_API_KEY environment variable, else none).")
    var apiKey: String?

    @Option(name: .customLong("max-loras"), help: "Adapters kept in memory at once; the least recently used is dropped first.")
    var maxLoras: Int = 8

    @Option(name: .customLong("kv-cache-mb"), help: "Memory for the key/value cache of all running sequences, in MiB.")
    var kvCacheMB: Int = 256

    @Option(name: .customLong("max-num-seqs"), help: "Sequences decoded together in one batch.")
    var maxNumSeqs: Int = 16

    @Option(name: .customLong("max-batch-tokens"), help: "Tokens one engine step feeds in all (prompts are prefilled in chunks of this size).")
    var maxBatchTokens: Int = 256

    @Option(name: .customLong("max-queue"), help: "Requests that may wait for a slot; beyond that new requests get 429.")
    var maxQueue: Int = 256

    @Option(name: .customLong("max-tokens"), help: "Largest max_tokens a request may ask for.")
    var maxTokens: Int = 2048

    @Option(name: .customLong("max-body-kb"), help: "Largest request body, in KiB (larger bodies get 413).")
    var maxBodyKB: Int = 1024

    @Option(name: .customLong("adapter-dtype"),
            help: "LoRA/rsLoRA weights while serving: fp32 (exact, default), bf16 (half the bytes per decode step; outputs within bf16 rounding) or int8 (a quarter; per-rank scales, see docs/serve.md).")
    var adapterDType: SegmentedLoRA.Precision = .float32
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535, got \(port)") }
        for (flag, value) in [("--max-loras", maxLoras), ("--kv-cache-mb", kvCacheMB), ("--max-num-seqs", maxNumSeqs),
                              ("--max-batch-tokens", maxBatchTokens), ("--max-tokens", maxTokens),
                              ("--max-body-kb", maxBodyKB)] where value < 1 {
            throw ValidationError("\(flag) must be at least 1, got \(value)")
        }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be ≥ 0, got \(maxQueue)") }
        if let adapterDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: adapterDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--adapter-dir \(adapterDir) is not a folder")
            }
        }
    }

    func run() async throws {
        runtime.apply()
        let url = try ModelStore().resolve(model)
        let languageModel = try LanguageModel.load(url)
        let name = servedModelName ?? (FileManager.default.fileExists(atPath: model)
            ? url.deletingPathExtension().lastPathComponent : model)
        let linears = languageModel.model.linears.filter { $0 !== languageModel.model.lmHead }
        let registry = AdapterRegistry(linears: linears, directory: adapterDir.map { URL(fileURLWithPath: $0) },
                                       maxLoaded: maxLoras, adapterDType: adapterDType)
        let engine = try Engine(languageModel: languageModel, registry: registry, configuration: EngineConfiguration(
            kvCacheBytes: kvCacheMB << 20, maxBatchTokens: maxBatchTokens, maxSequences: maxNumSeqs,
            maxQueue: maxQueue))
        let key = apiKey ?? ProcessInfo.processInfo.environment["LORAKIT_API_KEY"]
        let options = ServerOptions(modelName: name, apiKey: key?.isEmpty == false ? key : nil,
                                    maxBodyBytes: maxBodyKB << 10, maxTokens: maxTokens)
        let app = ServeApplication.build(engine: engine, options: options, host: host, port: port)
        let adapters = registry.names
        FileHandle.standardError.write(Data(("lorakit serve: \(name) with \(adapters.count) adapter(s) in "
            + "\(adapterDir ?? "no --adapter-dir") on http://\(host):\(port) (\(runtime.resolvedThreads) threads, "
            + "\(engine.cachePositions) cached positions)\n").utf8))
        try await app.runService()
        await engine.shutdown()
        FileHandle.standardError.write(Data("lorakit serve: stopped\n".utf8))
    }
}
