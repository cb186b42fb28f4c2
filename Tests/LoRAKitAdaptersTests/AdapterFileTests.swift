import Foundation
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitAdapters

/// Adapter behaviour on a tiny random Llama: the PEFT invariants for every variant, save → load round trips and
/// clear errors for bad adapter folders.
@Suite struct AdapterFileTests {
    static func tinyModel(seed: UInt64 = 1) throws -> LlamaModel {
        let c = LlamaConfiguration(hiddenSize: 16, intermediateSize: 32, layerCount: 2, attentionHeads: 4,
                                   keyValueHeads: 2, vocabularySize: 40, tieWordEmbeddings: true)
        var weights: [String: Tensor] = [
            "model.embed_tokens.weight": .randomNormal([40, 16], std: 0.5, seed: seed),
            "model.norm.weight": .filled([16], value: 1),
        ]
        for i in 0..<2 {
            let p = "model.layers.\(i)."
            for (name, shape) in [("self_attn.q_proj", [16, 16]), ("self_attn.k_proj", [8, 16]),
                                  ("self_attn.v_proj", [8, 16]), ("self_attn.o_proj", [16, 16]),
                                  ("mlp.gate_proj", [32, 16]), ("mlp.up_proj", [32, 16]), ("mlp.down_proj", [16, 32])] {
                weights[p + name + ".weight"] = .randomNormal(shape, std: 0.2, seed: seed &+ UInt64(weights.count))
            }
            weights[p + "input_layernorm.weight"] = .filled([16], value: 1)
            weights[p + "post_attention_layernorm.weight"] = .filled([16], value: 1)
        }
        return try LlamaModel(configuration: c, weights: weights)
    }

    static let ids: [Int32] = [3, 7, 1, 30, 12]

    static func logits(_ model: LlamaModel) -> [Float] { withNoGrad { model.logits(ids, positions: .all).scalars } }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-adapter-\(UUID().uuidString)")
    }

    static func configuration(_ kind: AdapterKind, initialization: AdapterConfiguration.Initialization) -> AdapterConfiguration {
        AdapterConfiguration(rank: 4, alpha: 8, targets: .allLinear, useDoRA: kind == .dora, initialization: initialization)
    }

    @Test(arguments: AdapterKind.allCases)
    func freshAdapterIsANoOp(_ kind: AdapterKind) throws {
        let model = try Self.tinyModel()
        let base = Self.logits(model)
        let set = AdapterSet(model.linears)
        try set.add(Adapter(name: "a", configuration: Self.configuration(kind, initialization: .standard),
                            for: model.linears, seed: 9))
        try set.activate("a")
        #expect(Self.maxAbs(Self.logits(model), base) < 1e-5)
    }

    @Test(arguments: AdapterKind.allCases)
    func mergedEqualsUnmergedAndDisabledEqualsBase(_ kind: AdapterKind) throws {
        let model = try Self.tinyModel()
        let base = Self.logits(model)
        let set = AdapterSet(model.linears)
        try set.add(Adapter(name: "a", configuration: Self.configuration(kind, initialization: .random),
                            for: model.linears, seed: 9))
        try set.activate("a")
        let adapted = Self.logits(model)
        #expect(Self.maxAbs(adapted, base) > 1e-2, "a random adapter must change the output")
        try set.merge("a")
        #expect(Self.maxAbs(Self.logits(model), adapted) < 1e-4)
        try set.unmerge("a")
        set.deactivateAll()
        let restored = Self.logits(model)
        #expect(Self.maxAbs(restored, base) < 1e-4)
        try set.activate([("a", 0)])
        #expect(Self.logits(model) == restored, "an adapter at weight 0 leaves the output as it is")
    }

    @Test(arguments: AdapterKind.allCases)
    func saveThenLoadRoundTrips(_ kind: AdapterKind) throws {
        let model = try Self.tinyModel()
        let config = Self.configuration(kind, initialization: .random)
        let adapter = try Adapter(name: "a", configuration: config, for: model.linears, seed: 5)
        let folder = Self.temporaryFolder()
        try PEFTAdapterFile.save(adapter, to: folder)
        let loaded = try PEFTAdapterFile.load(from: folder, for: model.linears)
        #expect(loaded.kind == kind)
        #expect(loaded.modules.map(\.module) == adapter.modules.map(\.module))
        for ((_, a), (_, b)) in zip(adapter.modules, loaded.modules) {
            for (key, value) in a.parameters { #expect(b.parameters[key]?.scalars == value.scalars, "\(key)") }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.deletingLastPathComponent().path)
        #expect(!names.contains { $0.hasPrefix(".\(folder.lastPathComponent).partial") }, "no staging folder left")
    }

    @Test func weightedSetOfTwoAddsTheirDeltas() throws {
        let model = try Self.tinyModel()
        let base = Self.logits(model)
        let set = AdapterSet(model.linears)
        for (name, seed) in [("x", UInt64(1)), ("y", UInt64(2))] {
            try set.add(Adapter(name: name, configuration: Self.configuration(.lora, initialization: .random),
                                for: model.linears, seed: seed))
        }
        try set.activate([("x", 0.5), ("y", 0.25)])
        let both = Self.logits(model)
        #expect(Self.maxAbs(both, base) > 1e-3)
        try set.remove("x")
        #expect(set.names == ["y"])
        #expect(set.active.map(\.name) == ["y"])
        #expect(throws: AdapterError.self) { try set.activate("x") }
    }

    @Test func badFoldersGiveClearErrors() throws {
        let model = try Self.tinyModel()
        let folder = Self.temporaryFolder()
        let missing = #expect(throws: AdapterError.self) { try PEFTAdapterFile.load(from: folder, for: model.linears) }
        #expect(missing?.description.contains("adapter_config.json") == true)

        let adapter = try Adapter(name: "a", configuration: Self.configuration(.lora, initialization: .random),
                                  for: model.linears, seed: 5)
        try PEFTAdapterFile.save(adapter, to: folder)
        let weights = folder.appendingPathComponent(PEFTAdapterFile.weightsName)
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        let truncated = #expect(throws: AdapterError.self) { try PEFTAdapterFile.load(from: folder, for: model.linears) }
        #expect(truncated?.description.contains(weights.path) == true, "\(truncated?.description ?? "")")

        // An adapter made for a wider model does not fit.
        let other = try Self.tinyModel()
        try PEFTAdapterFile.save(adapter, to: folder)
        var config = try AdapterConfiguration(json: Data(contentsOf: folder.appendingPathComponent("adapter_config.json")))
        config.rank = 2
        try config.jsonData().write(to: folder.appendingPathComponent("adapter_config.json"))
        let shapes = #expect(throws: AdapterError.self) { try PEFTAdapterFile.load(from: folder, for: other.linears) }
        #expect(shapes?.description.contains("has shape [4, 16] but the base model needs [2, 16]") == true,
                "\(shapes?.description ?? "")")

        config.rank = 4
        config.targets = .names(["query_proj"])
        try config.jsonData().write(to: folder.appendingPathComponent("adapter_config.json"))
        let unknown = #expect(throws: AdapterError.self) { try PEFTAdapterFile.load(from: folder, for: other.linears) }
        #expect(unknown?.description.contains("query_proj") == true)
    }
}
