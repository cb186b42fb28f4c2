import Foundation
import Testing
@testable import LoRAKitAdapters

/// PEFT's own choices (Tests/Fixtures/adapters/targeting.json, made by scripts/fixtures/make_targeting_fixtures.py).
struct TargetingFixture: Decodable {
    struct Target: Decodable { let module: String; let rank: Int; let alpha: Double; let scaling: Double }
    struct Case: Decodable { let adapter_config: JSONValue; let targets: [Target] }
    let linear_modules: [String]
    let cases: [String: Case]

    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/adapters/targeting.json")
    static func load() throws -> TargetingFixture {
        try JSONDecoder().decode(TargetingFixture.self, from: Data(contentsOf: url))
    }
    static let caseNames = ["qv_list", "all_linear", "regex", "layers", "layers_pattern", "patterns", "rslora_exclude",
                            "exclude_regex", "full_name"]
}

@Suite struct TargetSelectionTests {
    @Test(arguments: TargetingFixture.caseNames)
    func selectsTheModulesPEFTSelects(_ name: String) throws {
        let fixture = try TargetingFixture.load()
        let testCase = try #require(fixture.cases[name])
        let config = try AdapterConfiguration(fields: try #require(testCase.adapter_config.objectValue))
        let selected = try config.selectTargets(in: fixture.linear_modules, outputHead: "lm_head")
        #expect(selected.map(\.module) == testCase.targets.map(\.module))
        for (ours, peft) in zip(selected, testCase.targets) {
            #expect(ours.rank == peft.rank, "\(ours.module)")
            #expect(ours.alpha == peft.alpha, "\(ours.module)")
            #expect(abs(ours.scaling - peft.scaling) < 1e-12, "\(ours.module)")
        }
    }

    @Test(arguments: TargetingFixture.caseNames)
    func savedConfigurationReadsBackTheSame(_ name: String) throws {
        let fixture = try TargetingFixture.load()
        let raw = try #require(fixture.cases[name]?.adapter_config.objectValue)
        let config = try AdapterConfiguration(fields: raw)
        let again = try AdapterConfiguration(json: config.jsonData())
        #expect(again.fields == config.fields)
        #expect(again.targets == config.targets && again.rankPattern == config.rankPattern)
        // Fields LoRAKit does not model survive the round trip.
        #expect(again.fields["auto_mapping"] == raw["auto_mapping"])
        #expect(again.fields["megatron_core"] == raw["megatron_core"])
        #expect(again.fields["qalora_group_size"] == raw["qalora_group_size"])
    }

    @Test func noMatchNamesTheTargetsAndShowsModuleNames() throws {
        let config = AdapterConfiguration(targets: .names(["query", "value"]))
        let error = #expect(throws: AdapterError.self) {
            try config.selectTargets(in: ["model.layers.0.self_attn.q_proj"])
        }
        #expect(error?.description.contains("[query, value]") == true)
        #expect(error?.description.contains("model.layers.0.self_attn.q_proj") == true)
    }

    @Test(arguments: [
        (#"{"r": 4, "bias": "all"}"#, "bias"),
        (#"{"r": 4, "fan_in_fan_out": true}"#, "fan_in_fan_out"),
        (#"{"r": 4, "layer_replication": [[0, 4]]}"#, "layer_replication"),
        (#"{"peft_type": "IA3"}"#, "peft_type"),
        (#"{"r": 4, "init_lora_weights": "loftq"}"#, "init_lora_weights"),
        (#"{"r": 0}"#, "'r'"),
        (#"{"r": 4, "lora_dropout": 1.5}"#, "lora_dropout"),
        (#"{"r": 4, "target_modules": 7}"#, "target_modules"),
        (#"[1, 2]"#, "top level"),
        (#"{"r": 4"#, "not valid JSON"),
    ])
    func badOrUnsupportedFieldsAreNamed(json: String, field: String) {
        let error = #expect(throws: AdapterError.self) { try AdapterConfiguration(json: Data(json.utf8)) }
        #expect(error?.description.contains(field) == true, "\(error?.description ?? "")")
    }

    @Test func layersToTransformWithARegexIsRefusedLikePEFT() throws {
        var config = AdapterConfiguration(targets: .regex(".*q_proj"))
        config.layersToTransform = [0]
        #expect(throws: AdapterError.self) { try config.selectTargets(in: ["model.layers.0.self_attn.q_proj"]) }
    }

    @Test func scalingFollowsRSLoRA() {
        #expect(AdapterConfiguration(rank: 16, alpha: 32).scaling(rank: 16, alpha: 32) == 2)
        #expect(AdapterConfiguration(rank: 16, alpha: 32, useRSLoRA: true).scaling(rank: 16, alpha: 32) == 8)
    }

    @Test func layerIndexFollowsPEFT() {
        #expect(PatternMatch.layerIndex(of: "model.layers.12.mlp.up_proj", patterns: nil) == 12)
        #expect(PatternMatch.layerIndex(of: "model.layers.1.experts.0.w1", patterns: nil) == 1)
        #expect(PatternMatch.layerIndex(of: "lm_head", patterns: nil) == nil)
        #expect(PatternMatch.layerIndex(of: "model.h.3.attn.c_attn", patterns: ["h"]) == 3)
        #expect(PatternMatch.layerIndex(of: "model.layers.3.attn.c_attn", patterns: ["h"]) == nil)
    }
}
