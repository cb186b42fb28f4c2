import Foundation
import LoRAKitCore
import LoRAKitModels

/// Continuous batching over one base model and many adapters.
///
/// A dedicated thread runs steps. Each step feeds every running sequence — one token for those decoding, a chunk of
/// the prompt for those prefilling, `maxBatchTokens` in all — through the model once (``LlamaModel/logits(batch:cache:)``:
/// one GEMM per projection for all rows), while an ``AdapterRouter`` applies each adapter to its own rows. New
/// requests join between steps when cache blocks are free; when the cache runs out mid-generation the most recently
/// admitted sequence is preempted (its blocks freed, its tokens recomputed later, as vLLM does), so the engine never
/// fails for lack of memory. Requests wait in a bounded queue (back-pressure: ``ServeError/overloaded(_:)`` past it).
public final class Engine: @unchecked Sendable {
    public let languageModel: LanguageModel
    public let registry: AdapterRegistry
    public let configuration: EngineConfiguration
    let cache: PagedKVCache
    private let plan = RowPlan()
    private let router: AdapterRouter
    private let contextLimit: Int

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var waiting: [EngineSequence] = []
    private var cancelledIDs = Set<Int>()
    private var stopping = false
    private var stopped = false
    private var nextID = 0
    private var stats = EngineSnapshot()
    // Engine thread only:
    private var running: [EngineSequence] = []

    /// Takes over `languageModel`'s projections (attaches the row router to each) and starts the engine thread.
    /// - Throws: ``ServeError/invalidField(_:_:)`` when the cache budget holds less than one block.
    public init(languageModel: LanguageModel, registry: AdapterRegistry, configuration: EngineConfiguration) throws {
        let model = languageModel.model
        let c = model.configuration
        let perBlock = PagedKVCache.bytesPerBlock(layers: c.layerCount, blockSize: configuration.blockSize,
                                                  keyValueHeads: c.keyValueHeads, headDim: c.headDim)
        guard configuration.kvCacheBytes >= perBlock * 2 else {
            throw ServeError.invalidField("kv-cache-mb", "must hold at least 2 blocks of \(perBlock) bytes")
        }
        guard configuration.maxBatchTokens >= 1, configuration.maxSequences >= 1, configuration.maxQueue >= 0 else {
            throw ServeError.invalidField("engine", "limits must be positive")
        }
        self.languageModel = languageModel
        self.registry = registry
        self.configuration = configuration
        cache = model.makePagedCache(budgetBytes: configuration.kvCacheBytes, blockSize: configuration.blockSize)
        contextLimit = c.maxPositionEmbeddings
        router = AdapterRouter(plan: plan, linears: registry.linears)
        for linear in model.linears where linear !== model.lmHead { linear.adapters.append(router) }
        stats.totalBlocks = cache.blockCount
        stats.freeBlocks = cache.blockCount
        let thread = Thread { [self] in loop() }
        thread.name = "lorakit-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Positions the whole cache holds.
    public var cachePositions: Int { cache.blockCount * cache.blockSize }
    /// The model's context length.
    public var contextLength: Int { contextLimit }

    /// Queues a request. The stream yields text pieces and then one ``EngineEvent/finished(_:)``; cancelling the
    /// consuming task (a client that disconnects) frees the sequence at the next step.
    /// - Throws: ``ServeError`` for a prompt that can never run, a full queue, or a server shutting down.
    public func submit(_ request: EngineRequest) throws -> EngineTicket {
        let vocabulary = languageModel.model.configuration.vocabularySize
        guard !request.prompt.isEmpty else { throw ServeError.invalidField("prompt", "is empty after tokenization") }
        if let bad = request.prompt.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw ServeError.invalidField("prompt", "token id \(bad) is outside the vocabulary 0..<\(vocabulary)")
        }
        let limit = min(contextLimit, cachePositions)
        guard request.prompt.count < limit else {
            throw ServeError.contextLengthExceeded(
                "the prompt has \(request.prompt.count) tokens; this server fits at most \(limit - 1)")
        }
        guard request.parameters.maxTokens >= 1 else { throw ServeError.invalidField("max_tokens", "must be ≥ 1") }
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self)
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw ServeError.shuttingDown }
        guard waiting.count < configuration.maxQueue else {
            throw ServeError.overloaded("the server is busy (\(waiting.count) requests waiting); retry shortly")
        }
        let id = nextID
        nextID += 1
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason { self?.cancel(id) }
        }
        waiting.append(EngineSequence(id: id, request: request, tokenizer: languageModel.tokenizer,
                                      stopIDs: languageModel.stopTokenIDs, continuation: continuation))
        stats.waiting = waiting.count
        condition.signal()
        return EngineTicket(events: stream, id: id, engine: self)
    }

    /// Frees request `id`'s sequence at the next step (its stream ends without a `finished` event).
    func cancel(_ id: Int) {
        condition.lock()
        cancelledIDs.insert(id)
        condition.signal()
        condition.unlock()
    }

    /// Counters and gauges now.
    public var snapshot: EngineSnapshot {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    /// Stops taking requests, finishes every queued and running one, then stops the thread.
    public func shutdown() async {
        condition.withLock {
            stopping = true
            condition.signal()
        }
        while !(condition.withLock { stopped }) { try? await Task.sleep(nanoseconds: 10_000_000) }
    }

    // MARK: - The engine thread

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && running.isEmpty && cancelledIDs.isEmpty && !stopping { condition.wait() }
            if stopping && waiting.isEmpty && running.isEmpty {
                stopped = true
                condition.unlock()
                return
            }
            let cancelled = cancelledIDs
            cancelledIDs = []
            let dropped = waiting.filter { cancelled.contains($0.id) }
            waiting.removeAll { cancelled.contains($0.id) }
            stats.cancelled += dropped.count
            condition.unlock()
            let gone = running.filter { cancelled.contains($0.id) }
            for s in gone { release(s) }
            condition.withLock {
                stats.cancelled += gone.count
                stats.running = running.count
                stats.freeBlocks = cache.freeBlockCount
            }
            step()
        }
    }

    /// Gives `s` blocks for `positions` positions; false when the pool has too few free.
    private func reserve(_ s: EngineSequence, positions: Int) -> Bool {
        let need = cache.blocksNeeded(for: positions) - s.blocks.count
        guard need > 0 else { return true }
        guard cache.freeBlockCount >= need else { return false }
        for _ in 0..<need { if let b = cache.allocate() { s.blocks.append(b) } }
        return true
    }

    /// Frees `s`'s blocks and takes it out of `running`.
    private func release(_ s: EngineSequence) {
        cache.free(s.blocks)
        s.blocks = []
        running.removeAll { $0 === s }
    }

    /// Frees `s`'s cache and puts it back at the head of the queue; its tokens are recomputed when it resumes.
    private func preempt(_ s: EngineSequence) {
        release(s)
        s.cached = 0
        condition.withLock {
            waiting.insert(s, at: 0)
            stats.preemptions += 1
        }
    }

    private func finish(_ s: EngineSequence, _ reason: FinishReason) {
        release(s)
        let summary = EngineSummary(finishReason: reason, promptTokens: s.request.prompt.count,
                                    completionTokens: s.generated.count, tokenIDs: s.generated)
        condition.withLock {
            stats.finished += 1
            stats.requestsPerAdapter[s.adapterName, default: 0] += 1
        }
        s.continuation.yield(.finished(summary))
        s.continuation.finish()
    }

    private func step() {
        var budget = configuration.maxBatchTokens
        var batch: [(sequence: EngineSequence, chunk: Int)] = []
        // 1. Sequences already running, oldest first; preempt the newest when blocks run out.
        var i = 0
        while i < running.count && budget > 0 {
            let s = running[i]
            let chunk = min(s.pending, budget)
            var placed = reserve(s, positions: s.cached + chunk)
            while !placed, let victim = running.last, victim !== s {
                preempt(victim)
                placed = reserve(s, positions: s.cached + chunk)
            }
            if !placed {
                if i == 0 { finish(s, .length) } else { preempt(s) }  // alone and still too long: the cache is full
                continue
            }
            batch.append((s, chunk))
            budget -= chunk
            i += 1
        }
        // 2. Admit waiting requests while the budget, the sequence limit and the free blocks allow.
        condition.lock()
        while budget > 0 && running.count < configuration.maxSequences, let s = waiting.first {
            let chunk = min(s.pending, budget)
            let need = cache.blocksNeeded(for: s.cached + chunk)
            guard cache.freeBlockCount >= need + running.count else { break }  // keep a block per runner for growth
            waiting.removeFirst()
            _ = reserve(s, positions: s.cached + chunk)
            running.append(s)
            batch.append((s, chunk))
            budget -= chunk
        }
        stats.waiting = waiting.count
        condition.unlock()
        guard !batch.isEmpty else { return }
        run(batch)
    }

    private func run(_ unordered: [(sequence: EngineSequence, chunk: Int)]) {
        // Rows of one adapter side by side, so each adapter's product runs once on one segment.
        let batch = unordered.enumerated().sorted {
            ($0.element.sequence.adapterID, $0.offset) < ($1.element.sequence.adapterID, $1.offset)
        }.map(\.element)
        var segments: [RowPlan.Segment] = []
        var inputs: [BatchedSequence] = []
        var row = 0
        for (s, chunk) in batch {
            let wantsLogits = s.cached + chunk == s.tokens.count
            inputs.append(BatchedSequence(tokens: Array(s.tokens[s.cached..<(s.cached + chunk)]), start: s.cached,
                                          blockTable: s.blocks, wantsLogits: wantsLogits))
            if let entry = s.request.adapter?.entry {
                if let last = segments.last, last.adapter === entry, last.rows.upperBound == row {
                    segments[segments.count - 1].rows = last.rows.lowerBound..<(row + chunk)
                } else {
                    segments.append(RowPlan.Segment(rows: row..<(row + chunk), adapter: entry))
                }
            }
            row += chunk
        }
        plan.segments = segments
        let logits = withNoGrad { languageModel.model.logits(batch: inputs, cache: cache) }
        plan.segments = []
        let vocabulary = logits.shape[1]
        var j = 0, generated = 0, prompt = 0
        var perAdapter: [String: Int] = [:]
        for (s, chunk) in batch {
            let wasPrefill = chunk > 1 || s.generated.isEmpty
            if wasPrefill { prompt += chunk }
            s.cached += chunk
            guard s.cached == s.tokens.count else { continue }
            let token = logits.withUnsafeBufferPointer { all in
                s.sampler.sample(logits: UnsafeBufferPointer(rebasing: all[(j * vocabulary)..<((j + 1) * vocabulary)]),
                                 context: s.tokens)
            }
            j += 1
            generated += 1
            perAdapter[s.adapterName, default: 0] += 1
            if let reason = s.accept(token, contextLimit: contextLimit) { finish(s, reason) }
        }
        condition.withLock {
            stats.steps += 1
            stats.lastBatchRows = row
            stats.lastBatchSequences = batch.count
            stats.running = running.count
            stats.promptTokens += prompt
            stats.generatedTokens += generated
            for (name, n) in perAdapter { stats.tokensPerAdapter[name, default: 0] += n }
            stats.freeBlocks = cache.freeBlockCount
        }
    }
}
