import Foundation
import Testing
@testable import LoRAKitTokenizers

@Suite("Byte-level BPE parity with Hugging Face tokenizers (SmolLM2)")
struct BPETokenizerTests {
    @Test func corpusIsLoaded() throws {
        #expect(Fixtures.encodeCases.count >= 200)
        let tokenizer = try #require(Fixtures.smolLM2)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosTokenID == 1)
        #expect(tokenizer.eosTokenID == 2)
        #expect(tokenizer.padTokenID == 2)
        #expect(tokenizer.addBOS == false)
        #expect(tokenizer.preTokenizer == .smollm)
        #expect(tokenizer.chatTemplateSource?.contains("<|im_start|>") == true)
    }

    @Test func identicalIDsOnEveryCorpusString() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        var mismatches: [String] = []
        for c in Fixtures.encodeCases {
            let ids = tokenizer.encode(c.text, addSpecialTokens: true)
            if ids != c.ids { mismatches.append("\(c.text.debugDescription): \(ids) != \(c.ids)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test func decodeRoundTripsEveryCorpusString() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        for c in Fixtures.encodeCases {
            #expect(tokenizer.decode(tokenizer.encode(c.text, addSpecialTokens: false), skipSpecialTokens: false) == c.text)
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.text)
        }
    }

    @Test func bytesWithoutATokenAreDropped() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        // SmolLM2 has no token for 0x04; the reference drops it ("a\u{4}b" → ["a", "b"]).
        #expect(tokenizer.encode("a\u{4}b", addSpecialTokens: false) == [81, 82])
    }

    @Test func digitSplitMattersBeforeDigits() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        // smollm splits "a  2" as "a", "  ", "2"; the plain GPT-2 split gives "a", " ", " 2".
        let ids = tokenizer.encode("a  2", addSpecialTokens: false)
        #expect(ids == [81, 256, 34])
    }

    @Test func specialTokensAreSplitOutAndSkippable() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: false)
        #expect(ids.first == 1)
        #expect(ids.last == 2)
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "user\nHi")
        #expect(tokenizer.isSpecial(1) && !tokenizer.isSpecial(ids[1]))
        let literal = tokenizer.encode("<|im_start|>", addSpecialTokens: false, parseSpecialTokens: false)
        #expect(literal.count > 1 && !literal.contains(1))
        #expect(tokenizer.decode(literal, skipSpecialTokens: true) == "<|im_start|>")
    }

    @Test func buildsFromGGUFStyleArrays() throws {
        // The GGUF path: the same vocabulary as raw arrays (merges as "a b" strings, types 3 for control).
        let reference = try #require(Fixtures.smolLM2)
        let json = try BPEVocabulary(tokenizerJSON: Fixtures.smolLM2Directory.appendingPathComponent("tokenizer.json"))
        let types = (0..<reference.vocabularySize).map { Int32(reference.isSpecial(Int32($0)) ? 3 : 1) }
        let vocabulary = try BPEVocabulary(
            tokens: json.tokens, merges: json.merges.map { $0.0 + " " + $0.1 }, tokenTypes: types,
            bosTokenID: 1, eosTokenID: 2, padTokenID: 2, unknownTokenID: 0, addBOS: false,
            preTokenizer: try BPEPreTokenizer(ggufName: "smollm"), chatTemplate: reference.chatTemplateSource)
        let tokenizer = try BPETokenizer(vocabulary)
        for c in Fixtures.encodeCases.prefix(120) {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(c.text.debugDescription)")
        }
    }

    @Test func addBOSWhenAsked() throws {
        let json = try BPEVocabulary(tokenizerJSON: Fixtures.smolLM2Directory.appendingPathComponent("tokenizer.json"),
                                     tokenizerConfig: Fixtures.smolLM2Directory.appendingPathComponent("tokenizer_config.json"))
        var vocabulary = json
        vocabulary.addBOS = true
        vocabulary.addEOS = true
        let tokenizer = try BPETokenizer(vocabulary)
        #expect(tokenizer.encode("Hi", addSpecialTokens: true) == [1, 26843, 2])
        #expect(tokenizer.encode("Hi", addSpecialTokens: false) == [26843])
    }

    @Test func badInputsThrow() throws {
        #expect(throws: TokenizerError.self) { try BPEPreTokenizer(ggufName: "falcon") }
        #expect(throws: TokenizerError.self) { try BPEVocabulary(tokens: ["a"], merges: ["ab"]) }
        // A merge naming tokens that are not in the vocabulary.
        #expect(throws: TokenizerError.self) { try BPETokenizer(BPEVocabulary(tokens: ["a", "b"], merges: ["a c"])) }
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(BPEVocabulary(tokens: ["a", "b"], merges: [], tokenTypes: [1]))
        }
        #expect(throws: TokenizerError.self) { try BPETokenizer(BPEVocabulary(tokens: ["a"], merges: [], bosTokenID: 5)) }
        let missing = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        #expect(throws: TokenizerError.self) { try BPEVocabulary(tokenizerJSON: missing) }
    }
}
