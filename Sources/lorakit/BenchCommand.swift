import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit bench …`: measurements of LoRAKit's own side (the peers are measured by scripts/baselines).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure LoRAKit's speed.",
        subcommands: [KernelsBench.self, GenerateBench.self, TrainBench.self, ServeBench.self]
    )
}

/// `lorakit bench kernels [--json] [--threads N]`.
struct KernelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GEMM, linear, elementwise and fused training kernels at SmolLM2-135M training shapes.",
        discussion: "Prints the BLAS path in use (library, OpenBLAS core, CPU features) and, per kernel, GFLOP/s or GB/s on 1 thread and on --threads threads."
    )

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .long, help: "Print one JSON document instead of a table.") var json = false
    @Option(name: .long, parsing: .upToNextOption,
            help: "Measure only these groups (\(KernelBenchmarks.Group.allCases.map(\.rawValue).joined(separator: ", "))).")
    var only: [KernelBenchmarks.Group] = []

    func run() throws {
        runtime.apply()
        let stderr = FileHandle.standardError
        let groups = only.isEmpty ? Set(KernelBenchmarks.Group.allCases) : Set(only)
        let report = KernelBenchmarks.run(threads: runtime.resolvedThreads, groups: groups) { step in
            if !json { stderr.write(Data("  measuring \(step)\n".utf8)) }
        }
        if let error = report.blas.loadError { throw ValidationError(error) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let b = report.blas
        print("BLAS: \(b.library), core \(b.coreName), OPENBLAS_CORETYPE set by LoRAKit: \(b.coreTypeSet ?? "none")")
        print("CPU: AVX2 \(b.avx2 ? "yes" : "no"), FMA \(b.fma ? "yes" : "no"), AVX-512 \(b.avx512 ? "yes" : "no"), "
            + "AVX-512 BF16 \(b.avx512bf16 ? "yes" : "no"); threads \(report.threads)")
        for m in report.measurements {
            let value = String(format: "%8.1f %@", m.value, m.unit)
            let ratio = m.ratio.map { String(format: "  %5.1f%% of %@", $0 * 100, m.reference ?? "") } ?? ""
            let kernel = m.kernel.padding(toLength: 42, withPad: " ", startingAt: 0)
            let shape = m.shape.padding(toLength: 30, withPad: " ", startingAt: 0)
            print("\(kernel) \(shape) t\(m.threads)  \(value)  \(String(format: "%8.2f", m.milliseconds)) ms\(ratio)")
        }
    }
}

extension KernelBenchmarks.Group: ExpressibleByArgument {}
