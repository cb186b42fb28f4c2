import Foundation
import Testing
@testable import LoRAKitAdapters

@Suite struct AdapterSpecTests {
    @Test(arguments: [("a/b", "a/b", Float(1)), ("a/b:0.5", "a/b", 0.5), ("c:/x:2", "c:/x", 2), ("a:b", "a:b", 1),
                      ("x:-1", "x", -1)])
    func parsesPathAndScale(text: String, path: String, scale: Float) throws {
        let spec = try AdapterSpec(parsing: text)
        #expect(spec.path == path && spec.scale == scale)
    }

    @Test(arguments: ["", ":0.5", "a:inf", "a:nan"])
    func refusesEmptyPathsAndBadScales(_ text: String) {
        #expect(throws: AdapterError.self) { try AdapterSpec(parsing: text) }
    }

    @Test func summarisesAPEFTFolder() throws {
        let folder = PEFTParityTests.fixtures.appendingPathComponent("lora_qv")
        let summary = try AdapterSummary(folder: folder)
        #expect(summary.kind == "lora" && summary.rank == 4 && summary.alpha == 8 && summary.scaling == 2)
        #expect(summary.targetModules == "q_proj, v_proj")
        #expect(summary.modules.count == 60)
        #expect(summary.modules.first == "model.layers.0.self_attn.q_proj")
        #expect(summary.parameters == 30 * (4 * 576 + 576 * 4) + 30 * (4 * 576 + 192 * 4))
        #expect(summary.bytesOnDisk > summary.parameters * 4)
        let dora = try AdapterSummary(folder: PEFTParityTests.fixtures.appendingPathComponent("dora_qkvo"))
        #expect(dora.kind == "dora")
    }
}
