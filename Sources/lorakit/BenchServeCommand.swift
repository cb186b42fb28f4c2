import ArgumentParser
import Foundation
import LoRAKit

/// `lorakit bench serve [--json]`: aggregate decode throughput of the serving engine (continuous batching) for
/// 1 stream on the base model, `--streams` streams on the base model, and `--streams` streams each on its own adapter.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serving engine throughput: N streams on N different adapters vs N on the base model vs 1 stream.",
        discussion: """
            Adapters: the first N subfolders of --adapter-dir (`make serve-adapters` trains eight real ones into \
            runs/serve-adapters), or else N random LoRA adapters (rank --rank on every linear layer, as PEFT's \
            all-linear). Each stream prefills a short prompt and decodes --new-tokens greedy \
            tokens (no stop); aggregate decode tokens/s = all decoded tokens / wall time of the decode phase. The three \
            scenarios run one after another --rounds times, interleaved, and each reports its median round, so a \
            slow spell of a noisy machine does not land on one scenario only.
            """)

    @Option(name: .long, help: "A pulled model's name (e.g. smollm2-135m) or a path to a .gguf file or a Hugging Face directory.")
    var model: String = "smollm2-135m"
    @Option(name: .customLong("adapter-dir"), help: "Serve these PEFT adapters (default: random rank --rank all-linear LoRAs).")
    var adapterDir: String?
    @Option(name: .long, help: "Concurrent streams in the batched scenarios.") var streams: Int = 8
    @Option(name: .customLong("new-tokens"), help: "Tokens each stream decodes.") var newTokens: Int = 64
    @Option(name: .long, help: "Rank of the random adapters (8: PEFT's and `lorakit train`'s default).") var rank: Int = 8
    @Option(name: .long, help: "Rounds of the three scenarios (interleaved, alternating order; each reports its median, the ratios the median of the rounds' own).") var rounds: Int = 9
    @Flag(name: .long, help: "Print one JSON line.") var json = false
    @Option(name: .customLong("adapter-dtype"),
            help: "LoRA/rsLoRA weights while serving: fp32 (exact, default), bf16 (half the bytes per decode step; outputs within bf16 rounding) or int8 (a quarter; per-rank scales, see docs/serve.md).")
    var adapterDType: SegmentedLoRA.Precision = .float32
    @OptionGroup var runtime: RuntimeOptions

    struct Scenario: Encodable {
        let streams: Int
        let adapters: Int
        /// The median round's.
        let decode_tokens_per_s: Double
        let seconds: Double
        /// Every round's decode tokens/s, in order.
        var rounds: [Double] = []
    }

    struct Report: Encodable {
        let implementation = "lorakit"
        let single: Scenario
        let base_batched: Scenario
        let mixed_adapters: Scenario
        /// The median of the rounds' own ratios (each round measures the scenarios back to back, so a slow spell of a
        /// noisy machine mostly hits both sides of a ratio); every round's ratio in `ratio_rounds`.
        let mixed_over_base: Double
        let mixed_over_single: Double
        let ratio_rounds: [String: [Double]]
        let threads: Int
        let new_tokens: Int
        let adapter_source: String
        let adapter_dtype: String
    }

    func validate() throws {
        guard streams >= 1, newTokens >= 2, rank >= 1, rounds >= 1 else {
            throw ValidationError("--streams, --rank and --rounds must be ≥ 1 and --new-tokens ≥ 2")
        }
    }

    func run() async throws {
        runtime.apply()
        let lm = try LanguageModel.load(try ModelStore().resolve(model))
        let linears = lm.model.linears.filter { $0 !== lm.model.lmHead }
        let registry = AdapterRegistry(linears: linears, directory: adapterDir.map { URL(fileURLWithPath: $0) },
                                       maxLoaded: max(streams, 1), adapterDType: adapterDType)
        var names = Array(registry.names.prefix(streams))
        if adapterDir == nil {
            for i in 0..<streams {
                let configuration = AdapterConfiguration(rank: rank, alpha: Double(rank), targets: .allLinear,
                                                         initialization: .random)
                try registry.add(try Adapter(name: "bench-\(i)", configuration: configuration, for: linears,
                                             outputHead: nil, seed: UInt64(i + 1)))
                names.append("bench-\(i)")
            }
        }
        guard names.count == streams else {
            throw ValidationError("--adapter-dir has \(names.count) adapters; --streams \(streams) needs as many")
        }
        let engine = try Engine(languageModel: lm, registry: registry, configuration: EngineConfiguration(
            kvCacheBytes: 128 << 20, maxSequences: max(streams, 1)))
        let prompt = lm.encode("Write a long story about a lighthouse keeper and the sea.")
        // Warm-up.
        _ = try await measure(engine, adapters: [nil], prompt: prompt, tokens: 4)
        var measured: [[Scenario]] = [[], [], []]
        let loads: [[String?]] = [[nil], Array(repeating: nil, count: streams), names.map { Optional($0) }]
        for r in 0..<rounds {
            // Odd rounds run the scenarios in reverse, so a drift in the machine's speed favours no scenario.
            for i in r % 2 == 0 ? [0, 1, 2] : [2, 1, 0] {
                measured[i].append(try await measure(engine, adapters: loads[i], prompt: prompt, tokens: newTokens))
            }
        }
        await engine.shutdown()
        let (single, base, mixed) = (median(measured[0]), median(measured[1]), median(measured[2]))
        let speed = measured.map { $0.map(\.decode_tokens_per_s) }
        let overBase = (0..<rounds).map { round(speed[2][$0] / speed[1][$0], 3) }
        let overSingle = (0..<rounds).map { round(speed[2][$0] / speed[0][$0], 2) }
        let report = Report(single: single, base_batched: base, mixed_adapters: mixed,
                            mixed_over_base: medianValue(overBase), mixed_over_single: medianValue(overSingle),
                            ratio_rounds: ["mixed_over_base": overBase, "mixed_over_single": overSingle],
                            threads: runtime.resolvedThreads, new_tokens: newTokens,
                            adapter_source: adapterDir ?? "random rank-\(rank) all-linear LoRA",
                            adapter_dtype: adapterDType.rawValue)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            for (label, s) in [("1 stream, base", single), ("\(streams) streams, base", base),
                               ("\(streams) streams, \(streams) adapters", mixed)] {
                let rounds = s.rounds.map { String(format: "%.1f", $0) }.joined(separator: ", ")
                writeOut(String(format: "%-28@ %8.1f decode tokens/s (median of %@)\n", label as NSString,
                                s.decode_tokens_per_s, rounds as NSString))
            }
            let ratios = overBase.map { String(format: "%.3f", $0) }.joined(separator: ", ")
            writeOut(String(format: "mixed / base %.3f (median of the rounds' %@), mixed / single %.2f (threads %d)\n",
                            report.mixed_over_base, ratios as NSString, report.mixed_over_single, report.threads))
        }
    }

    /// The round with the median decode speed (the lower middle one of an even count), with every round's speed.
    private func median(_ runs: [Scenario]) -> Scenario {
        var middle = runs.sorted { $0.decode_tokens_per_s < $1.decode_tokens_per_s }[(runs.count - 1) / 2]
        middle.rounds = runs.map(\.decode_tokens_per_s)
        return middle
    }

    /// The middle value (the mean of the two middle ones of an even count).
    private func medianValue(_ values: [Double]) -> Double {
        let sorted = values.sorted(), n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : round((sorted[n / 2 - 1] + sorted[n / 2]) / 2, 3)
    }

    private func round(_ x: Double, _ digits: Int) -> Double {
        let scale = Foundation.pow(10, Double(digits))
        return (x * scale).rounded() / scale
    }

    /// Runs one stream per entry of `adapters` at once; times decode from the moment every stream has its first
    /// token to the end.
    private func measure(_ engine: Engine, adapters: [String?], prompt: [Int32], tokens: Int) async throws -> Scenario {
        let clock = ContinuousClock()
        let firstTokens = FirstTokenCounter(expected: adapters.count)
        let end = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            for name in adapters {
                let lease = try name.map { n -> AdapterLease in
                    guard let lease = try engine.registry.lease(n) else { throw ValidationError("no slot for \(n)") }
                    return lease
                }
                let ticket = try engine.submit(EngineRequest(prompt: prompt, adapter: lease, parameters: GenerationParameters(
                    maxTokens: tokens, sampling: .greedy, stopTokenIDs: [])))
                group.addTask {
                    var events = ticket.events.makeAsyncIterator()
                    if await events.next() != nil { firstTokens.arrive(clock.now) }
                    while await events.next() != nil {}
                    return clock.now
                }
            }
            var last = clock.now
            for try await t in group { last = max(last, t) }
            return last
        }
        let start = firstTokens.latest ?? end
        let seconds = Double((end - start).components.attoseconds) / 1e18 + Double((end - start).components.seconds)
        let decoded = adapters.count * (tokens - 1)
        return Scenario(streams: adapters.count, adapters: Set(adapters.compactMap { $0 }).count,
                        decode_tokens_per_s: round(Double(decoded) / max(seconds, 1e-9), 1),
                        seconds: round(seconds, 3))
    }
}

/// The time the last stream received its first token (the decode phase starts for all).
final class FirstTokenCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var arrived = 0
    private(set) var latest: ContinuousClock.Instant?
    let expected: Int
    init(expected: Int) { self.expected = expected }
    func arrive(_ t: ContinuousClock.Instant) {
        lock.withLock {
            arrived += 1
            latest = max(latest ?? t, t)
        }
    }
}
