import ArgumentParser
import Testing
@testable import lorakit

@Suite struct BenchCommandTests {
    @Test func parsesKernelsFlags() throws {
        let command = try LoRAKitCommand.parseAsRoot(["bench", "kernels", "--json", "--threads", "1", "--only", "gemm", "fused"])
        let kernels = try #require(command as? KernelsBench)
        #expect(kernels.json && kernels.runtime.threads == 1)
        #expect(kernels.only.map(\.rawValue) == ["gemm", "fused"])
    }

    @Test(arguments: [["bench", "kernels", "--threads", "0"], ["bench", "kernels", "--threads", "x"],
                      ["bench", "kernels", "--only", "nothing"], ["bench", "kernels", "--bogus"]])
    func badFlagsAreUserErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try LoRAKitCommand.parseAsRoot(arguments) }
    }

    @Test func errorMessageIsOneLine() {
        do {
            _ = try LoRAKitCommand.parseAsRoot(["bench", "kernels", "--threads", "0"])
            Issue.record("--threads 0 was accepted")
        } catch {
            let message = LoRAKitCommand.message(for: error)
            #expect(message.contains("--threads must be at least 1"))
            #expect(!message.contains("\n"))
            #expect(LoRAKitCommand.exitCode(for: error) != .success)
        }
    }
}
