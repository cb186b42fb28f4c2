import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitServe

/// The engine on the real model: continuous batching with mixed adapters must not change any request's output.
@Suite(.serialized) struct EngineTests {
    static let prompts = ["The capital of France is", "def fibonacci(n):", "Once upon a time, in a small village,",
                          "The three primary colors are", "List three fruits:", "2 + 2 =", "Water boils at",
                          "The quick brown fox"]
    static let models: [String?] = ["qv", "rs", nil, "dora", "pat", "qv", nil, "rs"]

    /// The key property: greedy output of each request in a mixed-adapter batch (requests joining mid-flight, prompts
    /// prefilled in chunks) equals the same request run alone.
    @Test func mixedBatchEqualsAlone() async throws {
        let engine = try ServeFixture.engine()
        let tokenizer = engine.languageModel
        let requests = zip(Self.prompts, Self.models).map { (tokenizer.encode($0.0), $0.1) }
        var alone: [[Int32]] = []
        for (prompt, adapter) in requests {
            alone.append(try await engine.run(prompt, adapter: adapter).1.tokenIDs)
        }
        let together = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, (prompt, adapter)) in requests.enumerated() {
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(i % 3) * 15_000_000)  // join while others decode
                    return (i, try await engine.run(prompt, adapter: adapter).1.tokenIDs)
                }
            }
            var out = [[Int32]](repeating: [], count: requests.count)
            for try await (i, ids) in group { out[i] = ids }
            return out
        }
        for i in requests.indices {
            #expect(together[i] == alone[i], "request \(i) (\(Self.models[i] ?? "base")) changed in the batch")
        }
        // Adapters do change the output (else the test would prove nothing about routing).
        #expect(Set(alone).count > 1)
    }

    /// The routed adapter equals the adapter attached the ordinary way (AdapterSet + Generator) on its own model.
    @Test(arguments: ["qv", "rs", "dora"])
    func routedAdapterMatchesGenerator(_ name: String) async throws {
        let engine = try ServeFixture.engine()
        let prompt = engine.languageModel.encode("The capital of France is")
        let served = try await engine.run(prompt, adapter: name, maxTokens: 10).1.tokenIDs
        let reference = try Self.reference()
        let set = AdapterSet(reference.model.linears)
        try set.add(try PEFTAdapterFile.load(from: ServeFixture.adapterDir.appendingPathComponent(name),
                                             for: reference.model.linears, name: name))
        try set.activate(name)
        defer { try? set.remove(name) }
        let generated = try Generator(reference).generate(prompt: prompt, parameters: GenerationParameters(maxTokens: 10))
        #expect(served == generated.tokenIDs)
    }

    /// `--adapter-dtype bf16|int8` rounds (quantizes) the LoRA/rsLoRA factors: on these fixtures the greedy text is
    /// the same as with fp32 factors, and DoRA (served in fp32 whatever the option) is served exactly as before.
    @Test(arguments: [SegmentedLoRA.Precision.bfloat16, .int8])
    func narrowAdaptersKeepTheGreedyText(precision: SegmentedLoRA.Precision) async throws {
        let narrow = try ServeFixture.makeEngine(adapterDType: precision)
        let fp32 = try ServeFixture.engine()
        let prompt = fp32.languageModel.encode("The capital of France is")
        for name in ["qv", "rs", "dora"] {
            let a = try await narrow.run(prompt, adapter: name, maxTokens: 12).1.tokenIDs
            let b = try await fp32.run(prompt, adapter: name, maxTokens: 12).1.tokenIDs
            #expect(a == b, "\(name): \(precision) factors changed the greedy continuation")
        }
        await narrow.shutdown()
    }

    static let referenceModel: Result<LanguageModel, Error> = Result { try ServeFixture.loadModel() }
    static func reference() throws -> LanguageModel { try referenceModel.get() }

    /// A cache too small for every sequence at once forces preemption; outputs must not change.
    @Test func preemptionKeepsOutputs() async throws {
        let engine = try ServeFixture.makeEngine(EngineConfiguration(
            kvCacheBytes: 10 * PagedKVCache.bytesPerBlock(layers: 30, blockSize: 16, keyValueHeads: 3, headDim: 64),
            maxBatchTokens: 32))
        let prompts = Self.prompts.prefix(4).map { engine.languageModel.encode($0) }
        var alone: [[Int32]] = []
        for p in prompts { alone.append(try await engine.run(p, adapter: "qv", maxTokens: 30).1.tokenIDs) }
        let together = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, p) in prompts.enumerated() {
                group.addTask { (i, try await engine.run(p, adapter: "qv", maxTokens: 30).1.tokenIDs) }
            }
            var out = [[Int32]](repeating: [], count: prompts.count)
            for try await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(together == alone)
        #expect(engine.snapshot.preemptions > 0)
        // The engine publishes its gauges just after the last step's events; give it a moment.
        for _ in 0..<200 where engine.snapshot.freeBlocks != engine.snapshot.totalBlocks {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(engine.snapshot.freeBlocks == engine.snapshot.totalBlocks)
        await engine.shutdown()
    }

    /// A cancelled request (a client that went away) frees its sequence and blocks.
    @Test func cancelFreesTheSequence() async throws {
        let engine = try ServeFixture.engine()
        let ticket = try engine.submit(EngineRequest(prompt: engine.languageModel.encode("Tell me a story"),
                                                     adapter: nil, parameters: GenerationParameters(maxTokens: 2000)))
        var pieces = 0
        for await event in ticket.events {
            if case .text = event { pieces += 1 }
            if pieces == 2 { break }
        }
        ticket.cancel()
        for _ in 0..<200 where engine.snapshot.running > 0 || engine.snapshot.freeBlocks != engine.snapshot.totalBlocks {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(engine.snapshot.freeBlocks == engine.snapshot.totalBlocks)
        #expect(engine.snapshot.cancelled >= 1)
    }

    /// `--max-loras 1`: a second adapter evicts the first (LRU) once it is no longer in use.
    @Test func registryEvictsLeastRecentlyUsed() throws {
        let lm = try Self.reference()
        let registry = AdapterRegistry(linears: lm.model.linears.filter { $0 !== lm.model.lmHead },
                                       directory: ServeFixture.adapterDir, maxLoaded: 1)
        var first = try registry.lease("qv")
        #expect(first != nil)
        #expect(try registry.lease("rs") == nil)  // the only slot is pinned
        first = nil
        #expect(try registry.lease("rs")?.name == "rs")
        #expect(registry.loadedNames == ["rs"])
        #expect(registry.counters.evictions == 1)
        #expect(throws: ServeError.self) { try registry.lease("nope") }
        #expect(throws: ServeError.self) { try registry.lease("../etc") }
    }
}
