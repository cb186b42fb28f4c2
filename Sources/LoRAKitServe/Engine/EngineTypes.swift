import LoRAKitModels

/// The engine's limits (`lorakit serve` flags).
public struct EngineConfiguration: Sendable, Equatable {
    /// Memory for the paged key/value cache, in bytes (`--kv-cache-mb`).
    public var kvCacheBytes: Int
    /// Positions per cache block.
    public var blockSize: Int
    /// Tokens one step may feed in all (decode rows plus prompt chunks): the prefill chunk size.
    public var maxBatchTokens: Int
    /// Sequences running at once (`--max-num-seqs`).
    public var maxSequences: Int
    /// Requests that may wait for a slot before new ones get 429 (`--max-queue`).
    public var maxQueue: Int

    public init(kvCacheBytes: Int = 256 << 20, blockSize: Int = 16, maxBatchTokens: Int = 256,
                maxSequences: Int = 16, maxQueue: Int = 256) {
        (self.kvCacheBytes, self.blockSize, self.maxBatchTokens) = (kvCacheBytes, blockSize, maxBatchTokens)
        (self.maxSequences, self.maxQueue) = (maxSequences, maxQueue)
    }
}

/// One generation request handed to the engine.
public struct EngineRequest: Sendable {
    /// Prompt token ids (non-empty, in the vocabulary, shorter than the context).
    public var prompt: [Int32]
    /// The adapter to run under (`nil`: the base model). The lease keeps it in memory until the request ends.
    public var adapter: AdapterLease?
    public var parameters: GenerationParameters

    public init(prompt: [Int32], adapter: AdapterLease?, parameters: GenerationParameters) {
        (self.prompt, self.adapter, self.parameters) = (prompt, adapter, parameters)
    }
}

/// What the engine reports for a request, in order: text pieces, then one `finished`.
public enum EngineEvent: Sendable, Equatable {
    case text(String)
    case finished(EngineSummary)
}

/// How a request ended.
public struct EngineSummary: Sendable, Equatable {
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int
    /// Generated token ids (for tests and logprob-free clients).
    public var tokenIDs: [Int32]
}

/// A point-in-time view of the engine for `/metrics` and `/health`.
public struct EngineSnapshot: Sendable, Equatable {
    public var waiting = 0
    public var running = 0
    public var lastBatchRows = 0
    public var lastBatchSequences = 0
    public var steps = 0
    public var promptTokens = 0
    public var generatedTokens = 0
    public var finished = 0
    public var cancelled = 0
    public var preemptions = 0
    public var freeBlocks = 0
    public var totalBlocks = 0
    /// Requests finished per adapter name ("" = base model).
    public var requestsPerAdapter: [String: Int] = [:]
    /// Generated tokens per adapter name ("" = base model).
    public var tokensPerAdapter: [String: Int] = [:]
}

/// A queued request: its events, and a way to give up on it (a client that went away).
public struct EngineTicket: Sendable {
    /// Text pieces, then one ``EngineEvent/finished(_:)`` (none when cancelled).
    public let events: AsyncStream<EngineEvent>
    let id: Int
    let engine: Engine

    /// Frees the sequence at the next step; harmless after it finished.
    public func cancel() { engine.cancel(id) }
}
