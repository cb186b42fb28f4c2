import Testing
@testable import LoRAKitTokenizers

@Suite("Streaming decode never emits broken UTF-8")
struct StreamingDecoderTests {
    @Test func emitsOnlyCompleteCharacters() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        for text in ["👨‍👩‍👧‍👦 family", "日本語のテキスト", "emoji😀in😀text", "plain ascii", "Ærøskøbing 🇫🇷"] {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            var stream = StreamingDecoder(tokenizer)
            var out = ""
            for id in ids {
                let piece = stream.append(id)
                #expect(!piece.contains("\u{FFFD}"), "broken UTF-8 emitted for \(text.debugDescription)")
                out += piece
            }
            out += stream.finish()
            #expect(out == text)
        }
    }

    @Test func holdsAnIncompleteSequence() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        // Byte tokens of "😀" (F0 9F 98 80), one at a time.
        let byteIDs = [0xF0, 0x9F, 0x98, 0x80].map { b in
            tokenizer.tokenID(for: String(ByteLevel.scalarOfByte[b]))!
        }
        var stream = StreamingDecoder(tokenizer)
        #expect(stream.append(byteIDs[0]) == "")
        #expect(stream.append(byteIDs[1]) == "")
        #expect(stream.append(byteIDs[2]) == "")
        #expect(stream.append(byteIDs[3]) == "😀")
        #expect(stream.append(byteIDs[0]) == "")
        #expect(stream.finish() == "\u{FFFD}")
    }

    @Test func skipsSpecialTokens() throws {
        let tokenizer = try #require(Fixtures.smolLM2)
        var stream = StreamingDecoder(tokenizer, skipSpecialTokens: true)
        let ids = tokenizer.encode("Hi<|im_end|>", addSpecialTokens: false)
        #expect(stream.append(ids) + stream.finish() == "Hi")
    }
}
