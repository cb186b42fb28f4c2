import Dispatch
import Foundation

/// A minimal parallel-for over a range, split into contiguous chunks, run on GCD worker threads
/// (never on Swift concurrency's cooperative pool). LoRAKitFormats keeps its own helper so that it does not
/// depend on LoRAKitCore's threading; the thread count comes from the caller.
enum ParallelChunks {
    /// Default worker count: the number of active processors.
    static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Calls `body` on disjoint sub-ranges covering `0..<count`, on up to `threads` threads.
    /// Runs inline when the work is small (`count < minimumPerThread * 2`) or `threads <= 1`.
    static func run(count: Int, threads: Int, minimumPerThread: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(max(threads, 1), max(count / max(minimumPerThread, 1), 1))
        if workers <= 1 {
            body(0 ..< count)
            return
        }
        // One contiguous chunk per worker caps the concurrency at `workers`.
        let chunks = workers
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                if start < end { body(start ..< end) }
            }
        }
    }
}
