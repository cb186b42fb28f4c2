/// Finds added/special tokens (`<|im_start|>`, …) in raw UTF-8 text, leftmost-longest, before pre-tokenization.
struct AddedTokenSplitter: Sendable {
    /// Candidates by first byte, longest first.
    private let byFirstByte: [[(bytes: [UInt8], id: Int32)]]
    let isEmpty: Bool

    init(_ tokens: [(content: String, id: Int32)]) {
        var table = [[(bytes: [UInt8], id: Int32)]](repeating: [], count: 256)
        for t in tokens where !t.content.isEmpty {
            let bytes = Array(t.content.utf8)
            table[Int(bytes[0])].append((bytes, t.id))
        }
        for i in 0..<256 { table[i].sort { $0.bytes.count > $1.bytes.count } }
        byFirstByte = table
        isEmpty = tokens.isEmpty
    }

    /// A segment of text: either plain text (byte range) or an added token.
    enum Segment { case text(Range<Int>), token(Int32) }

    func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Segment] {
        if isEmpty { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var out: [Segment] = []
        var start = 0, i = 0
        let n = bytes.count
        scan: while i < n {
            let candidates = byFirstByte[Int(bytes[i])]
            if !candidates.isEmpty {
                for c in candidates where c.bytes.count <= n - i {
                    var k = 1
                    while k < c.bytes.count && c.bytes[k] == bytes[i + k] { k += 1 }
                    if k == c.bytes.count {
                        if start < i { out.append(.text(start..<i)) }
                        out.append(.token(c.id))
                        i += k
                        start = i
                        continue scan
                    }
                }
            }
            i += 1
        }
        if start < n { out.append(.text(start..<n)) }
        return out
    }
}
