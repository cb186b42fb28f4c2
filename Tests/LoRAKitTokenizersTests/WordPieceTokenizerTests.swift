import Foundation
import Testing
@testable import LoRAKitTokenizers

@Suite("BERT WordPiece parity with Hugging Face tokenizers (all-MiniLM-L6-v2)")
struct WordPieceTokenizerTests {
    struct Case: Decodable { let text: String; let ids: [Int32]; let decoded: String }
    struct Corpus: Decodable { let cases: [Case] }

    static let tokenizer = try? WordPieceTokenizer(directory: Fixtures.root.appendingPathComponent("minilm"))
    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: Fixtures.root.appendingPathComponent("wordpiece_corpus.json")),
              let corpus = try? JSONDecoder().decode(Corpus.self, from: data) else { return [] }
        return corpus.cases
    }()

    @Test func identicalIDsAndDecodes() throws {
        let tokenizer = try #require(Self.tokenizer)
        #expect(Self.cases.count >= 200)
        #expect(tokenizer.vocabularySize == 30522)
        var idFailures: [String] = []
        var decodeFailures: [String] = []
        for c in Self.cases {
            let ids = tokenizer.encode(c.text, addSpecialTokens: true)
            if ids != c.ids { idFailures.append("\(c.text.debugDescription): \(ids) != \(c.ids)") }
            let text = tokenizer.decode(c.ids, skipSpecialTokens: true)
            if text != c.decoded { decodeFailures.append("\(c.text.debugDescription): \(text.debugDescription) != \(c.decoded.debugDescription)") }
        }
        #expect(idFailures.isEmpty, "\(idFailures.count):\n\(idFailures.prefix(8).joined(separator: "\n"))")
        #expect(decodeFailures.isEmpty, "\(decodeFailures.count):\n\(decodeFailures.prefix(8).joined(separator: "\n"))")
    }

    @Test func knownExample() throws {
        let tokenizer = try #require(Self.tokenizer)
        #expect(tokenizer.encode("Hello, world!", addSpecialTokens: true) == [101, 7592, 1010, 2088, 999, 102])
        #expect(tokenizer.encode("Hello, world!", addSpecialTokens: false) == [7592, 1010, 2088, 999])
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabulary: ["a", "b"]) }
    }
}
