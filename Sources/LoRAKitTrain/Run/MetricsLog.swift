import Foundation

/// One line of `metrics.jsonl`.
public struct MetricsRecord: Codable, Sendable, Equatable {
    public var step: Int
    /// Training loss of the step (absent on validation-only lines).
    public var loss: Double?
    public var validationLoss: Double?
    public var learningRate: Double?
    public var gradientNorm: Double?
    public var tokensPerSecond: Double?
    public var trainedTokens: Int?
    public var elapsedSeconds: Double?
    public var peakRSSMB: Double?

    public init(step: Int, loss: Double? = nil, validationLoss: Double? = nil) {
        self.step = step
        self.loss = loss
        self.validationLoss = validationLoss
    }

    enum CodingKeys: String, CodingKey {
        case step, loss
        case validationLoss = "val_loss", learningRate = "lr", gradientNorm = "grad_norm"
        case tokensPerSecond = "tokens_per_s", trainedTokens = "trained_tokens", elapsedSeconds = "elapsed_s"
        case peakRSSMB = "peak_rss_mb"
    }
}

/// `metrics.jsonl` of a run: one JSON object per training step and per validation, appended and flushed as they
/// come, so a crash loses nothing written. Resuming keeps the lines up to the checkpoint's step.
public final class MetricsLog {
    public let url: URL
    public private(set) var records: [MetricsRecord] = []
    private let handle: FileHandle
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Opens the log, keeping the lines of steps up to `step` (a resumed run's checkpoint; 0 for a new run) and
    /// dropping later ones (an interrupted tail).
    public init(url: URL, keepingThrough step: Int) throws {
        self.url = url
        if let data = FileManager.default.contents(atPath: url.path) {
            records = data.split(separator: UInt8(ascii: "\n")).compactMap {
                try? JSONDecoder().decode(MetricsRecord.self, from: Data($0))
            }.filter { $0.step <= step }
        }
        var text = Data()
        for record in records { text += try encoder.encode(record) + Data("\n".utf8) }
        try text.write(to: url, options: .atomic)
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    public func append(_ record: MetricsRecord) throws {
        records.append(record)
        try handle.write(contentsOf: try encoder.encode(record) + Data("\n".utf8))
    }
}
