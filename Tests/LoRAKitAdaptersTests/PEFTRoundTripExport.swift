import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels
import Testing
@testable import LoRAKitAdapters

/// "What we write, PEFT loads": writes LoRAKit-made adapters for the real model and the logits LoRAKit computes with
/// them, for scripts/fixtures/check_peft_roundtrip.py to compare against PEFT. Runs only when
/// LORAKIT_PEFT_ROUNDTRIP_DIR names an output folder, because the check itself needs Python with PEFT:
///   LORAKIT_PEFT_ROUNDTRIP_DIR=/tmp/rt swift test -c release -Xswiftc -enable-testing --filter PEFTRoundTripExport
///   .venv/bin/python scripts/fixtures/check_peft_roundtrip.py /tmp/rt/lora /tmp/rt/lora.expected.safetensors --merged
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["LORAKIT_PEFT_ROUNDTRIP_DIR"] != nil,
                             "set LORAKIT_PEFT_ROUNDTRIP_DIR to export adapters for the PEFT round-trip script"))
struct PEFTRoundTripExport {
    @Test(arguments: ["lora", "dora"])
    func export(_ kind: String) throws {
        let out = URL(fileURLWithPath: try #require(ProcessInfo.processInfo.environment["LORAKIT_PEFT_ROUNDTRIP_DIR"]))
        let lm = try PEFTParityTests.model()
        var config = AdapterConfiguration(rank: 4, alpha: 8, targets: kind == "lora" ? .allLinear : .names(["q_proj", "v_proj", "down_proj"]),
                                          useRSLoRA: kind == "lora", useDoRA: kind == "dora", initialization: .random)
        config.baseModelNameOrPath = "HuggingFaceTB/SmolLM2-135M-Instruct"
        let adapter = try Adapter(name: kind, configuration: config, for: lm.model.linears, seed: 77)
        // Keep the change visible but sensible: B small.
        for (_, variant) in adapter.modules {
            var p = variant.parameters
            p["lora_B.weight"] = p["lora_B.weight"].map { $0.scaled(by: 0.05) }
            variant.parameters = p
        }
        try PEFTAdapterFile.save(adapter, to: out.appendingPathComponent(kind))
        let set = AdapterSet(lm.model.linears)
        try set.add(adapter)
        try set.activate(kind)
        let ids: [Int32] = [504, 3575, 282, 4649, 314]
        let logits = withNoGrad { lm.model.logits(ids).scalars }
        set.deactivateAll()
        var writer = SafeTensorsWriter(metadata: ["prompt_ids": "[504, 3575, 282, 4649, 314]",
                                                  "prompt": "The capital of France is", "writer": "LoRAKit"])
        try writer.add("last_logits", shape: [logits.count], values: logits)
        try writer.write(to: out.appendingPathComponent("\(kind).expected.safetensors"))
    }
}
