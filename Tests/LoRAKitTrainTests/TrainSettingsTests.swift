import Foundation
import LoRAKitAdapters
import Testing
@testable import LoRAKitTrain

@Suite struct TrainSettingsTests {
    @Test func yamlFileIsReadAndFlagsWin() throws {
        let yaml = """
        # a run
        rank: 16
        alpha: 32.0   # scaling 2
        targets: [q_proj, v_proj, down_proj]
        lr: 2e-4
        dora: true
        data: "data/demo"
        layers:
          - 0
          - 3
        """
        let file = try RunConfigFile.parseYAML(yaml, file: "run.yaml")
        let settings = try TrainSettings(flags: ["rank": .int(4)], file: file)
        let adapter = try settings.adapterConfiguration(baseModel: "smollm2-135m")
        #expect(adapter.rank == 4 && adapter.alpha == 32 && adapter.useDoRA)
        #expect(adapter.targets == .names(["down_proj", "q_proj", "v_proj"]))
        #expect(adapter.layersToTransform == [0, 3])
        #expect(try settings.options.learningRate == 2e-4)
        #expect(try settings.string("data") == "data/demo")
    }

    @Test func patternsAndAllLinear() throws {
        let settings = try TrainSettings(flags: ["targets": .string("all-linear"),
                                                 "rank-pattern": .string("down_proj=32"),
                                                 "alpha-pattern": .string("down_proj=64,q_proj=4"),
                                                 "rslora": .bool(true), "init": .string("pissa_niter_4")])
        let adapter = try settings.adapterConfiguration(baseModel: "m")
        #expect(adapter.targets == .allLinear && adapter.useRSLoRA)
        #expect(adapter.rankPattern == ["down_proj": 32] && adapter.alphaPattern == ["down_proj": 64, "q_proj": 4])
        #expect(adapter.initialization == .pissa(iterations: 4))
    }

    @Test func badSettingsNameTheProblem() throws {
        #expect(throws: TrainError.self) { try TrainSettings(flags: [:], file: ["rnak": .int(3)]) }
        #expect(throws: TrainError.self) { try RunConfigFile.parseYAML("lora:\n  rank: 3\n", file: "x.yaml") }
        let bad = try TrainSettings(flags: ["schedule": .string("triangle")])
        #expect(throws: TrainError.self) { try bad.options }
        let zero = try TrainSettings(flags: ["iters": .int(0)])
        #expect(throws: TrainError.self) { try zero.options }
        let pattern = try TrainSettings(flags: ["rank-pattern": .string("down_proj")])
        #expect(throws: TrainError.self) { try pattern.adapterConfiguration(baseModel: "m") }
        do {
            _ = try RunConfigFile.parseYAML("rank: 3\nrank: 4\n", file: "x.yaml")
            Issue.record("a repeated key must fail")
        } catch let error as TrainError {
            #expect(error.description.hasPrefix("x.yaml:2:"))
        }
    }
}
