import Testing
@testable import LoRAKitTokenizers

@Suite("Hand-written pre-tokenizers match the reference regular expressions")
struct PreTokenizerTests {
    /// Splits like the tokenizer does and renders pieces in byte-level form, as `pre_tokenize_str` does.
    static func pieces(_ text: String, _ kind: BPEPreTokenizer) -> [String] {
        var buffer = ScalarBuffer()
        var words: [Range<Int>] = []
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { all in
            buffer.load(all)
            kind.split(buffer, into: &words)
            return words.map { ByteLevel.token(ofBytes: all[buffer.offset[$0.lowerBound]..<buffer.offset[$0.upperBound]]) }
        }
    }

    @Test(arguments: BPEPreTokenizer.allCases)
    func piecesMatchReference(_ kind: BPEPreTokenizer) {
        var failures: [String] = []
        for c in Fixtures.encodeCases {
            guard let expected = c.pieces[kind.rawValue] else { continue }
            let got = Self.pieces(c.text, kind)
            if got != expected { failures.append("\(c.text.debugDescription): \(got) != \(expected)") }
        }
        #expect(Fixtures.encodeCases.count >= 200)
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test func byteLevelMappingIsABijection() {
        #expect(ByteLevel.scalarOfByte[32] == "Ġ")
        #expect(ByteLevel.scalarOfByte[10] == "Ċ")
        for b in 0..<256 { #expect(ByteLevel.byte(of: ByteLevel.scalarOfByte[b]) == UInt8(b)) }
        #expect(Set(ByteLevel.scalarOfByte).count == 256)
    }
}
