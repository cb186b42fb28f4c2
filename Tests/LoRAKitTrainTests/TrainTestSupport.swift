import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitTrain

/// The real model and small data for the training tests.
enum TrainTestSupport {
    static let modelURL = ModelStore().location(of: KnownModel.named("smollm2-135m")!)
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// One model for all training tests: attaching an adapter (``attachAdapter(to:)``) replaces whatever the previous
    /// test attached, and nothing here changes base weights. Suites that attach adapters are serialized.
    static let shared: Result<LanguageModel, Error> = Result { try LanguageModel.load(modelURL) }

    static func sharedModel() throws -> LanguageModel {
        try #require(FileManager.default.fileExists(atPath: modelURL.path),
                     "run `lorakit pull smollm2-135m` (make test does) to fetch \(modelURL.path)")
        return try shared.get()
    }

    /// A small chat data set: a made-up code per digit.
    static func chatExamples(_ count: Int) -> [TrainingExample] {
        (0..<count).map { i in
            let n = i % 7 + 1
            return .chat([.init(role: "user", content: "Secret code for \(n)?"),
                          .init(role: "assistant", content: "CODE-\(n)\(n)-ZETA")])
        }
    }

    /// A LoRA on q and v of the first two layers, attached and active.
    static func attachAdapter(to lm: LanguageModel, rank: Int = 4, seed: UInt64 = 1, dora: Bool = false,
                              dropout: Double = 0) throws -> Adapter {
        var configuration = AdapterConfiguration(rank: rank, alpha: Double(2 * rank), dropout: dropout,
                                                 targets: .names(["q_proj", "v_proj", "down_proj"]), useDoRA: dora)
        configuration.layersToTransform = [0, 1]
        let adapter = try Adapter(name: "t", configuration: configuration, for: lm.model.linears, seed: seed)
        let set = AdapterSet(lm.model.linears)
        try set.add(adapter)
        try set.activate("t")
        return adapter
    }

    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-train-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The suites that attach adapters to the shared model run one test at a time, nested here so the serialization
/// spans suites too.
@Suite(.serialized) enum ModelTrainingSuites {}
