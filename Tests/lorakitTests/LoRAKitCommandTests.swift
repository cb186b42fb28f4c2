import ArgumentParser
import Testing
@testable import lorakit

@Suite struct LoRAKitCommandTests {
    @Test func unknownFlagIsAUserError() {
        #expect(throws: (any Error).self) { try LoRAKitCommand.parseAsRoot(["--no-such-flag"]) }
    }

    @Test func helpNamesTheTool() {
        let help = LoRAKitCommand.helpMessage()
        #expect(help.contains("lorakit"))
        #expect(help.contains("low-rank adaptation") || help.contains("Low-rank adaptation"))
    }
}
