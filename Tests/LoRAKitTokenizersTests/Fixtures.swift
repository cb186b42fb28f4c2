import Foundation
@testable import LoRAKitTokenizers

/// Paths of the committed fixtures (made by scripts/fixtures/make_tokenizer_fixtures.py).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizers")
    static let smolLM2Directory = root.appendingPathComponent("smollm2")

    /// One tokenizer for all tests (building it parses a 1.5 MB JSON).
    static let smolLM2: BPETokenizer? = try? BPETokenizer(directory: smolLM2Directory)

    struct EncodeCase: Decodable {
        let text: String
        let ids: [Int32]
        let pieces: [String: [String]]
    }
    struct EncodeCorpus: Decodable { let cases: [EncodeCase] }

    static let encodeCases: [EncodeCase] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("encode_corpus.json")),
              let corpus = try? JSONDecoder().decode(EncodeCorpus.self, from: data) else { return [] }
        return corpus.cases
    }()
}
