import CBLAS
import Foundation
import Testing
@testable import LoRAKitCore

/// The compute pool (`lk_pool.c`) and the products `Kernels.gemm` splits across it.
@Suite struct ThreadPoolTests {
    /// Sums `0..<n` with one parallel job and returns whether every index was visited exactly once.
    static func visitsOnce(_ n: Int, grain: Int) -> Bool {
        var seen = [Int32](repeating: 0, count: n)
        seen.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            parallelFor(n, grain: grain) { r in for i in r { base[i] += 1 } }
        }
        return seen.allSatisfy { $0 == 1 }
    }

    /// Four threads issue jobs at once: one runs on the pool, the others fall back to running serially; every job
    /// still covers its range exactly once.
    @Test func concurrentCallersEachGetTheirWholeJob() {
        let failures = LockedCounter()
        let group = DispatchGroup()
        for t in 0..<4 {
            group.enter()
            Thread {
                for j in 0..<200 where !Self.visitsOnce(1_000 + 37 * t + j, grain: 16) { failures.add() }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.value == 0)
    }

    /// Workers retire when the thread count goes down and come back when it goes up; with no spinning, idle workers
    /// sleep and are woken for each job.
    @Test func threadCountAndSpinChangesKeepJobsWhole() {
        let (threads, spin) = (ComputeThreads.count, lk_pool_spin_us())
        defer {
            ComputeThreads.set(threads)
            lk_pool_set_spin_us(spin)
        }
        for (n, us) in [(3, 200), (1, 200), (2, 0), (4, 0), (2, 50)] {
            ComputeThreads.set(n)
            lk_pool_set_spin_us(us)
            #expect(ComputeThreads.count == n)
            for size in [1, 2, 7, 64, 10_000] { #expect(Self.visitsOnce(size, grain: 1)) }
        }
    }

    /// Products large enough to be split: by rows when C is tall, by columns when it is wide, for every transpose.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func splitProductsMatchNaive(transpose: (Bool, Bool)) {
        for (m, n, k) in [(300, 40, 100), (20, 3_000, 50), (129, 257, 33)] {
            let a = randn(transpose.0 ? [k, m] : [m, k], seed: 70), b = randn(transpose.1 ? [n, k] : [k, n], seed: 71)
            #expect(m * n * k >= 2 * Kernels.blasGrain)
            expectClose(matmul(a, b, transposeA: transpose.0, transposeB: transpose.1),
                        OpsForwardTests.naive(a, b, tA: transpose.0, tB: transpose.1), atol: 1e-3)
        }
    }
}

/// A counter several threads bump.
private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
