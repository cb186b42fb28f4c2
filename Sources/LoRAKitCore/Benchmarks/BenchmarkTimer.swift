import Foundation

/// Wall-clock timing for kernel benchmarks: warm up once, then the best of `repetitions` runs or as many as
/// fit in `budget` seconds (at least one).
enum BenchmarkTimer {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Best seconds per call of `body`.
    static func best(repetitions: Int = 5, budget: Double = 1.5, _ body: () -> Void) -> Double {
        body()  // warm-up: page faults, pool buffers, BLAS threads
        var best = Double.infinity
        let start = now()
        for _ in 0..<max(1, repetitions) {
            let t0 = now()
            body()
            best = min(best, now() - t0)
            if now() - start > budget { break }
        }
        return best
    }

    /// Best seconds per call of `a` and of `b`, measured alternately so that load from other processes hits
    /// both alike (the ratio of the two is what the benchmarks report).
    static func bestInterleaved(rounds: Int = 3, _ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
        a()
        b()
        var (bestA, bestB) = (Double.infinity, Double.infinity)
        for _ in 0..<max(1, rounds) {
            var t0 = now()
            a()
            bestA = min(bestA, now() - t0)
            t0 = now()
            b()
            bestB = min(bestB, now() - t0)
        }
        return (bestA, bestB)
    }
}
