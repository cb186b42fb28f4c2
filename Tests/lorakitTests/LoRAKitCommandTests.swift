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

@Suite struct OneLineErrorTests {
    @Test func keepsOnlyTheFirstLineWithoutThePrefix() {
        #expect(LoRAKitCommand.oneLine("Error: Unknown option '--x'\nUsage: lorakit …\n  See 'lorakit --help'.")
                == "Unknown option '--x'")
    }

    @Test func badArgumentMessageIsOneLine() {
        do {
            _ = try LoRAKitCommand.parseAsRoot(["pull"])
            Issue.record("missing argument was accepted")
        } catch {
            let line = LoRAKitCommand.oneLine(LoRAKitCommand.message(for: error))
            #expect(!line.contains("\n"))
            #expect(line.contains("<name>"))
        }
    }
}
