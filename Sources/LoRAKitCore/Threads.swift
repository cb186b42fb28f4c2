import CBLAS
import Foundation

/// The one thread-count setting for compute: ``parallelFor(_:grain:_:)``'s pool, which also runs the BLAS calls.
///
/// The default is the number of active cores. `lorakit --threads N` calls ``set(_:)`` once at start-up.
public enum ComputeThreads {
    /// The number of threads compute kernels use.
    public static var count: Int { ThreadPool.shared.threadCount }

    /// Sets the thread count for ``parallelFor(_:grain:_:)`` and so for every kernel (values below 1 mean 1). BLAS
    /// itself always runs on one thread: ``Kernels/gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` splits
    /// its products across this pool, so one set of threads does all the work and none spins against another.
    public static func set(_ n: Int) { ThreadPool.shared.setThreadCount(n) }

    /// The number of active cores (the default thread count).
    public static var defaultCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Runs `body` over `0..<count` split into contiguous ranges across the compute threads.
///
/// Work below `grain` items (or when called from inside another `parallelFor`) runs serially on the caller's
/// thread, so small kernels pay nothing. The pool's threads are plain pthreads, not Swift concurrency's
/// cooperative pool. `body` must be safe to run concurrently on disjoint ranges.
@inlinable
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = ThreadPool.shared.threadCount
    if threads == 1 || count < 2 * max(grain, 1) {
        body(0..<count)
        return
    }
    ThreadPool.shared.run(count: count, grain: max(grain, 1), body)
}

/// The compute thread pool (``lk_pool_run`` in C): worker pthreads that spin briefly between jobs, so the ~250
/// short parallel jobs of a decode step do not each pay a futex wake-up; chunks are claimed dynamically.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool(threadCount: ComputeThreads.defaultCount)

    /// One job's chunking and body, read by every thread that runs a chunk.
    private struct Job {
        let count: Int
        let step: Int
        let body: (Range<Int>) -> Void
    }

    /// Chunks per thread: the caller starts at once and a worker joins when it wakes (a futex wake-up on these VMs
    /// takes tens of microseconds, as long as a small projection's whole GEMV), so smaller chunks let the work
    /// balance across whoever is running.
    static let chunksPerThread = 4

    init(threadCount: Int) {
        setThreadCount(threadCount)
    }

    /// Threads used per job (the caller included).
    public var threadCount: Int { Int(lk_pool_threads()) }

    func setThreadCount(_ n: Int) { lk_pool_set_threads(Int32(max(1, n))) }

    @usableFromInline
    func run(count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let n = min(threadCount * Self.chunksPerThread, (count + grain - 1) / grain)
        withoutActuallyEscaping(body) { body in
            var job = Job(count: count, step: (count + n - 1) / n, body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                lk_pool_run(n, { context, chunk in
                    let job = context!.assumingMemoryBound(to: Job.self)
                    let lo = chunk * job.pointee.step, hi = Swift.min(job.pointee.count, lo + job.pointee.step)
                    if lo < hi { job.pointee.body(lo..<hi) }
                }, pointer)
            }
        }
    }
}
