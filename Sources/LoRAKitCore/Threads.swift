import CBLAS
import Foundation

/// The one thread-count setting for compute: OpenBLAS's threads and ``parallelFor(_:grain:_:)``'s pool.
///
/// The default is the number of active cores. `lorakit --threads N` calls ``set(_:)`` once at start-up.
public enum ComputeThreads {
    /// The number of threads compute kernels use.
    public static var count: Int { ThreadPool.shared.threadCount }

    /// Sets the thread count for both BLAS and ``parallelFor(_:grain:_:)`` (values below 1 mean 1).
    public static func set(_ n: Int) {
        let n = max(1, n)
        lk_blas_set_threads(Int32(n))
        ThreadPool.shared.setThreadCount(n)
    }

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

/// A fixed set of worker pthreads that run chunks of one job at a time; the caller runs chunks too.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool(threadCount: ComputeThreads.defaultCount)

    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var finished = pthread_cond_t()
    private var workers = 0
    private var generation = 0
    private var job: ((Int) -> Void)?
    private var chunks = 0
    private var nextChunk = 0
    private var pending = 0
    private var busy = false
    private var _threadCount = 1

    init(threadCount: Int) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&finished, nil)
        setThreadCount(threadCount)
        lk_blas_set_threads(Int32(threadCount))
    }

    /// Threads used per job (the caller included).
    public var threadCount: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return _threadCount
    }

    func setThreadCount(_ n: Int) {
        pthread_mutex_lock(&mutex)
        _threadCount = max(1, n)
        let missing = _threadCount - 1 - workers
        workers += max(0, missing)
        pthread_mutex_unlock(&mutex)
        for _ in 0..<max(0, missing) { spawnWorker() }
    }

    private func spawnWorker() {
        let thread = Thread { [unowned self] in self.workerLoop() }
        thread.name = "lorakit-compute"
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func workerLoop() {
        var seen = 0
        pthread_mutex_lock(&mutex)
        while true {
            while generation == seen { pthread_cond_wait(&wake, &mutex) }
            seen = generation
            runChunksLocked()
        }
    }

    /// Takes and runs chunks until none is left; called with the mutex held, returns with it held.
    private func runChunksLocked() {
        while nextChunk < chunks, let body = job {
            let c = nextChunk
            nextChunk += 1
            pthread_mutex_unlock(&mutex)
            body(c)
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_broadcast(&finished) }
        }
    }

    @usableFromInline
    func run(count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        pthread_mutex_lock(&mutex)
        if busy {  // nested call from inside a chunk: run serially
            pthread_mutex_unlock(&mutex)
            body(0..<count)
            return
        }
        let n = min(_threadCount, (count + grain - 1) / grain)
        withoutActuallyEscaping(body) { body in
            let step = (count + n - 1) / n
            busy = true
            job = { c in
                let lo = c * step, hi = Swift.min(count, lo + step)
                if lo < hi { body(lo..<hi) }
            }
            chunks = n
            nextChunk = 0
            pending = n
            generation += 1
            pthread_cond_broadcast(&wake)
            runChunksLocked()
            while pending > 0 { pthread_cond_wait(&finished, &mutex) }
            job = nil
            busy = false
        }
        pthread_mutex_unlock(&mutex)
    }
}
