/// Turns generated ids into text piece by piece without ever emitting a broken UTF-8 character: bytes of an
/// incomplete multi-byte sequence (an emoji split over two byte tokens) are held until the sequence completes.
///
/// ```swift
/// var stream = StreamingDecoder(tokenizer, skipSpecialTokens: true)
/// for id in generated { print(stream.append(id), terminator: "") }
/// print(stream.finish())
/// ```
public struct StreamingDecoder {
    private let tokenizer: BPETokenizer
    private let skipSpecialTokens: Bool
    private var pending: [UInt8] = []

    /// - Parameters:
    ///   - tokenizer: the tokenizer whose ids will be appended.
    ///   - skipSpecialTokens: leave control tokens (`<|im_end|>`) out of the text.
    public init(_ tokenizer: BPETokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int32) -> String { append([id]) }

    /// Adds ids; returns the text that is now complete (possibly empty).
    public mutating func append(_ ids: [Int32]) -> String {
        tokenizer.appendBytes(of: ids, skipSpecialTokens: skipSpecialTokens, to: &pending)
        let keep = Self.incompleteTailLength(pending)
        let ready = pending.count - keep
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[0..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Flushes whatever is held (an unfinished sequence becomes U+FFFD) and resets the decoder.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Bytes at the end of `bytes` that start a multi-byte character whose continuation has not arrived yet.
    static func incompleteTailLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var back = 1
        while back <= min(4, n) {
            let b = bytes[n - back]
            if b & 0xC0 != 0x80 {  // a lead (or ASCII) byte
                let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return need > back && b <= 0xF4 ? back : 0
            }
            back += 1
        }
        return 0
    }
}
