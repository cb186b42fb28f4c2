import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitServe

/// The real model with an engine over it, shared by the serve suites (one engine per model: its router is attached
/// to the model's projections), and an adapter folder of the PEFT fixtures under serving names.
enum ServeFixture {
    static let peft = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/peft")
    static let modelURL = ModelStore().location(of: KnownModel.named("smollm2-135m")!)
    static let baseName = "smollm2-135m"
    /// Serving name → fixture folder.
    static let adapters = ["qv": "lora_qv", "rs": "rslora_all", "dora": "dora_qkvo", "pat": "patterns"]

    /// A fresh folder of symlinks to the fixtures.
    static let adapterDir: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-serve-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, fixture) in adapters {
            try? FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name),
                                                        withDestinationURL: peft.appendingPathComponent(fixture))
        }
        return dir
    }()

    static func loadModel() throws -> LanguageModel {
        try #require(FileManager.default.fileExists(atPath: modelURL.path),
                     "run `lorakit pull smollm2-135m` (make test does) to fetch \(modelURL.path)")
        return try LanguageModel.load(modelURL)
    }

    static func makeEngine(_ configuration: EngineConfiguration = EngineConfiguration(kvCacheBytes: 64 << 20),
                           maxLoras: Int = 8, adapterDType: SegmentedLoRA.Precision = .float32) throws -> Engine {
        let lm = try loadModel()
        let registry = AdapterRegistry(linears: lm.model.linears.filter { $0 !== lm.model.lmHead },
                                       directory: adapterDir, maxLoaded: maxLoras, adapterDType: adapterDType)
        return try Engine(languageModel: lm, registry: registry, configuration: configuration)
    }

    /// The engine all route tests share.
    static let shared: Result<Engine, Error> = Result { try makeEngine() }
    static func engine() throws -> Engine { try shared.get() }

    static let options = ServerOptions(modelName: baseName, maxBodyBytes: 64 << 10, maxTokens: 64,
                                       adapterWaitSeconds: 2)
}

extension Engine {
    /// Runs one request to the end; returns its text and summary.
    func run(_ prompt: [Int32], adapter: String?, maxTokens: Int = 12,
             sampling: SamplingParameters = .greedy, stops: [String] = []) async throws -> (String, EngineSummary) {
        let lease = try adapter.map { try #require(try registry.lease($0)) }
        let ticket = try submit(EngineRequest(prompt: prompt, adapter: lease, parameters: GenerationParameters(
            maxTokens: maxTokens, sampling: sampling, stopStrings: stops)))
        var text = ""
        for await event in ticket.events {
            switch event {
            case .text(let piece): text += piece
            case .finished(let summary): return (text, summary)
            }
        }
        throw ServeError.internal("stream ended without a summary")
    }
}
