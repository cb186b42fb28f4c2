import Foundation
import LoRAKitCore

/// How the next token is chosen from the logits of the last position.
///
/// The pipeline follows Hugging Face's `generate` and llama.cpp's sampler chain, in this order:
/// repetition penalty → temperature → top-k → top-p → min-p → draw. A temperature of 0 is greedy (argmax),
/// and so is a configuration that leaves one candidate.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// Softmax temperature; `0` means greedy decoding.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; `0` disables the filter.
    public var topK: Int
    /// Keep the smallest set of tokens whose probabilities add up to at least `topP`; `1` disables it.
    public var topP: Float
    /// Drop tokens whose probability is below `minP` times the most likely token's; `0` disables it.
    public var minP: Float
    /// CTRL-style penalty on tokens already in the context: logits > 0 are divided by it, < 0 multiplied.
    /// `1` disables it.
    public var repetitionPenalty: Float
    /// How many of the most recent context tokens the repetition penalty looks at; `0` means all.
    public var repetitionWindow: Int
    /// Seed for the random draw; the same seed, parameters and logits give the same tokens.
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Greedy decoding: always the most likely token.
    public static let greedy = SamplingParameters()

    /// Checks the ranges; throws a message naming the bad value.
    public func validate() throws {
        func fail(_ message: String) -> SamplingError { SamplingError(message: message) }
        guard temperature.isFinite, temperature >= 0 else { throw fail("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw fail("top-k must be ≥ 0 (0 disables it), got \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw fail("top-p must be in (0, 1], got \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw fail("min-p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw fail("repetition penalty must be > 0 (1 disables it), got \(repetitionPenalty)")
        }
        guard repetitionWindow >= 0 else { throw fail("repetition window must be ≥ 0, got \(repetitionWindow)") }
    }
}

/// A sampling parameter out of range.
public struct SamplingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Chooses tokens from logits according to ``SamplingParameters``, with its own seeded random stream.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        self.random = SplitMix64(seed: parameters.seed)
    }

    /// Picks the next token.
    /// - Parameters:
    ///   - logits: the last position's logits, `[vocab]`.
    ///   - context: the tokens so far (prompt and generated), for the repetition penalty.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, context: [Int32]) -> Int32 {
        let p = parameters
        var candidates = logits.map { $0 }
        if p.repetitionPenalty != 1 {
            let window = p.repetitionWindow == 0 ? context[...] : context.suffix(p.repetitionWindow)
            for token in Set(window) where Int(token) >= 0 && Int(token) < candidates.count {
                let value = candidates[Int(token)]
                candidates[Int(token)] = value > 0 ? value / p.repetitionPenalty : value * p.repetitionPenalty
            }
        }
        if p.temperature == 0 { return Int32(Self.argmax(candidates)) }

        // Sort candidate indices by logit, keep the top-k, turn them into probabilities at the temperature.
        var order = Array(0..<candidates.count)
        let keep = p.topK > 0 ? min(p.topK, order.count) : order.count
        if keep < order.count {
            order = Self.topIndices(candidates, count: keep)
        } else {
            order.sort { candidates[$0] > candidates[$1] }
        }
        let maxLogit = candidates[order[0]]
        var probabilities = order.map { expf((candidates[$0] - maxLogit) / p.temperature) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }

        var cut = probabilities.count
        if p.topP < 1 {
            var cumulative: Float = 0
            for (i, q) in probabilities.enumerated() {
                cumulative += q
                if cumulative >= p.topP { cut = i + 1; break }
            }
        }
        if p.minP > 0 {
            let threshold = p.minP * probabilities[0]
            var kept = 1
            while kept < cut && probabilities[kept] >= threshold { kept += 1 }
            cut = kept
        }
        let mass = probabilities[..<cut].reduce(0, +)
        var draw = random.nextUnitFloat() * mass
        for i in 0..<cut {
            draw -= probabilities[i]
            if draw <= 0 { return Int32(order[i]) }
        }
        return Int32(order[cut - 1])
    }

    /// Index of the largest value (the first one on ties, like `torch.argmax`); the fast path for logits.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<values.count where values[i] > bestValue {
            bestValue = values[i]
            best = i
        }
        return best
    }

    /// Index of the largest value (the first one on ties, like `torch.argmax`).
    public static func argmax(_ values: [Float]) -> Int { values.withUnsafeBufferPointer { argmax($0) } }

    /// Index of the largest value (the first one on ties, like `torch.argmax`).
    public static func argmax<C: Collection>(_ values: C) -> Int where C.Element == Float, C.Index == Int {
        var best = values.startIndex
        var bestValue = -Float.infinity
        for i in values.indices where values[i] > bestValue {
            bestValue = values[i]
            best = i
        }
        return best
    }

    /// The `count` indices of the largest values, largest first.
    static func topIndices(_ values: [Float], count: Int) -> [Int] {
        var heap: [Int] = []  // min-heap on value, size ≤ count
        heap.reserveCapacity(count + 1)
        func less(_ a: Int, _ b: Int) -> Bool { values[a] < values[b] || (values[a] == values[b] && a > b) }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in values.indices {
            if heap.count < count {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    if less(heap[c], heap[parent]) { heap.swapAt(c, parent); c = parent } else { break }
                }
            } else if less(heap[0], i) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted { less($1, $0) }
    }
}
