import Foundation

/// HTTP request counts by route and status (thread-safe).
public final class HTTPStats: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: [Int: Int]] = [:]

    public init() {}

    func record(route: String, status: Int) {
        lock.withLock { counts[route, default: [:]][status, default: 0] += 1 }
    }

    var snapshot: [String: [Int: Int]] { lock.withLock { counts } }
}

/// `GET /metrics` in the Prometheus text format.
enum Metrics {
    static func render(engine: Engine, http: HTTPStats) -> String {
        let s = engine.snapshot
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value)\n" }
        }
        let requests = http.snapshot.sorted { $0.key < $1.key }.flatMap { route, byStatus in
            byStatus.sorted { $0.key < $1.key }.map { ("route=\"\(escape(route))\",status=\"\($0.key)\"", $0.value) }
        }
        metric("lorakit_http_requests_total", "counter", "HTTP requests by route and status.", requests)
        metric("lorakit_requests_finished_total", "counter", "Generation requests finished.", [("", s.finished)])
        metric("lorakit_requests_cancelled_total", "counter", "Generation requests cancelled (client gone).",
               [("", s.cancelled)])
        metric("lorakit_prompt_tokens_total", "counter", "Prompt tokens prefilled.", [("", s.promptTokens)])
        metric("lorakit_generation_tokens_total", "counter", "Tokens generated.", [("", s.generatedTokens)])
        metric("lorakit_queue_depth", "gauge", "Requests waiting for a slot.", [("", s.waiting)])
        metric("lorakit_running_sequences", "gauge", "Sequences in the running batch.", [("", s.running)])
        metric("lorakit_batch_rows", "gauge", "Token rows in the last engine step.", [("", s.lastBatchRows)])
        metric("lorakit_batch_sequences", "gauge", "Sequences in the last engine step.", [("", s.lastBatchSequences)])
        metric("lorakit_engine_steps_total", "counter", "Engine forward steps.", [("", s.steps)])
        metric("lorakit_preemptions_total", "counter", "Sequences preempted for lack of cache blocks.",
               [("", s.preemptions)])
        metric("lorakit_kv_blocks_free", "gauge", "Free key/value cache blocks.", [("", s.freeBlocks)])
        metric("lorakit_kv_blocks_total", "gauge", "Key/value cache blocks.", [("", s.totalBlocks)])
        metric("lorakit_adapter_requests_total", "counter", "Finished requests per adapter (\"\" = base model).",
               s.requestsPerAdapter.sorted { $0.key < $1.key }.map { ("adapter=\"\(escape($0.key))\"", $0.value) })
        metric("lorakit_adapter_generation_tokens_total", "counter", "Generated tokens per adapter (\"\" = base model).",
               s.tokensPerAdapter.sorted { $0.key < $1.key }.map { ("adapter=\"\(escape($0.key))\"", $0.value) })
        let counters = engine.registry.counters
        metric("lorakit_adapters_loaded", "gauge", "Adapters in memory.", [("", engine.registry.loadedNames.count)])
        metric("lorakit_adapter_loads_total", "counter", "Adapter loads from disk.", [("", counters.loads)])
        metric("lorakit_adapter_evictions_total", "counter", "Adapters evicted (LRU).", [("", counters.evictions)])
        return out
    }

    static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
