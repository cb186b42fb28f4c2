import Foundation
import Testing
@testable import LoRAKitTokenizers

/// Opt-in speed measurement (`LORAKIT_BENCHMARKS=1`): encodes ~1 MB of mixed text and reports tokens/s.
/// `LORAKIT_BENCH_TEXT=/path/file.txt` measures that file instead of the synthetic corpus text.
@Suite("Encoding speed", .enabled(if: ProcessInfo.processInfo.environment["LORAKIT_BENCHMARKS"] != nil))
struct EncodingSpeedTests {
    @Test func encodeOneMegabyte() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        // Corpus strings repeated with a varying number so that words are not all cache hits.
        var text = ProcessInfo.processInfo.environment["LORAKIT_BENCH_TEXT"]
            .flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        var i = 0
        while text.utf8.count < 1_000_000 {
            let c = Fixtures.encodeCases[i % Fixtures.encodeCases.count]
            text += c.text + " \(i) "
            text += "The quick brown fox number \(i * 7919 % 100_003) jumps over the lazy dog's back. "
            i += 1
        }
        for fresh in [true, false] {
            let t = fresh ? try BPETokenizer(directory: Fixtures.smolLM2Directory) : tokenizer
            let start = DispatchTime.now().uptimeNanoseconds
            let ids = t.encode(text, addSpecialTokens: false)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let line = String(format: "encode %d bytes → %d tokens in %.3f s: %.0f tokens/s, %.1f MB/s (%@ cache)",
                              text.utf8.count, ids.count, seconds, Double(ids.count) / seconds,
                              Double(text.utf8.count) / seconds / 1e6, fresh ? "cold" : "warm")
            print(line)
            #expect(ids.count > 100_000)
        }
    }
}
