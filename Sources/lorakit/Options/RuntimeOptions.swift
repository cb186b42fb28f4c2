import ArgumentParser
import LoRAKit

/// Options every compute subcommand shares: `--threads N`.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Compute threads for BLAS and LoRAKit's kernels (default: all active cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, got \(threads)")
        }
    }

    /// The thread count in effect after ``apply()``.
    var resolvedThreads: Int { threads ?? ComputeThreads.defaultCount }

    /// Sets the one thread-count setting (BLAS and `parallelFor`).
    func apply() { ComputeThreads.set(resolvedThreads) }
}
