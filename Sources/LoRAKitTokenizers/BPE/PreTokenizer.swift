/// How byte-level BPE splits text into words before merging, named as GGUF's `tokenizer.ggml.pre`.
///
/// All splitters are hand-written scanners equivalent to the reference regular expressions (no regex engine):
/// - ``gpt2``: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - ``smollm``: every number character on its own (`Digits(individual_digits=True)`), then ``gpt2`` on the rest.
/// - ``llama3``: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - ``qwen2``: as ``llama3`` with `\p{N}` (one number character per word).
public enum BPEPreTokenizer: String, Sendable, CaseIterable {
    case gpt2
    case smollm
    case llama3 = "llama-bpe"
    case qwen2

    /// Maps a GGUF `tokenizer.ggml.pre` value (and its aliases) to a pre-tokenizer.
    /// - Throws: ``TokenizerError/unsupportedPreTokenizer(_:)`` for names LoRAKit does not support.
    public init(ggufName: String) throws {
        switch ggufName.lowercased() {
        case "gpt2", "gpt-2", "default", "": self = .gpt2
        case "smollm": self = .smollm
        case "llama-bpe", "llama3", "llama-v3", "smaug-bpe", "dbrx": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        default: throw TokenizerError.unsupportedPreTokenizer(ggufName)
        }
    }
}

/// Scalars of a text segment with their UTF-8 offsets and character classes, the input of the splitters.
struct ScalarBuffer {
    static let letter: UInt8 = 1, number: UInt8 = 2, space: UInt8 = 4, newline: UInt8 = 8
    /// `value[i]`: the i-th scalar; `offset[i]`: its UTF-8 byte offset (`offset[count]` = byte length).
    var value: [UInt32] = []
    var offset: [Int] = []
    var cls: [UInt8] = []

    /// Fills the buffer from UTF-8 bytes (which must be valid UTF-8, as a Swift String's are).
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>) {
        value.removeAll(keepingCapacity: true)
        offset.removeAll(keepingCapacity: true)
        cls.removeAll(keepingCapacity: true)
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = UInt32(bytes[i])
            var v: UInt32
            var len: Int
            if b0 < 0x80 { v = b0; len = 1 }
            else if b0 < 0xE0 { v = b0 & 0x1F; len = 2 }
            else if b0 < 0xF0 { v = b0 & 0x0F; len = 3 }
            else { v = b0 & 0x07; len = 4 }
            if i + len > n { len = n - i }
            var k = 1
            while k < len { v = (v << 6) | (UInt32(bytes[i + k]) & 0x3F); k += 1 }
            value.append(v)
            offset.append(i)
            cls.append(ScalarBuffer.classify(v))
            i += len
        }
        offset.append(n)
    }

    private static let asciiClass: [UInt8] = (0..<128).map { v in
        let s = Unicode.Scalar(UInt8(v))
        if (65...90).contains(v) || (97...122).contains(v) { return letter }
        if (48...57).contains(v) { return number }
        if v == 10 || v == 13 { return space | newline }
        if s.properties.isWhitespace { return space }
        return 0
    }

    @inline(__always)
    static func classify(_ v: UInt32) -> UInt8 {
        if v < 128 { return asciiClass[Int(v)] }
        guard let s = Unicode.Scalar(v) else { return 0 }
        let p = s.properties
        if p.isWhitespace { return space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return 0
        }
    }
}

extension BPEPreTokenizer {
    /// Appends the words of `buf[0..<buf.count]` as scalar ranges to `out`.
    func split(_ buf: ScalarBuffer, into out: inout [Range<Int>]) {
        let n = buf.value.count
        switch self {
        case .gpt2: Splitters.gpt2(buf, 0, n, &out)
        case .llama3: Splitters.llama(buf, 0, n, maxDigits: 3, &out)
        case .qwen2: Splitters.llama(buf, 0, n, maxDigits: 1, &out)
        case .smollm:
            var start = 0
            for i in 0..<n where buf.cls[i] == ScalarBuffer.number {
                if start < i { Splitters.gpt2(buf, start, i, &out) }
                out.append(i..<(i + 1))
                start = i + 1
            }
            if start < n { Splitters.gpt2(buf, start, n, &out) }
        }
    }
}

private enum Splitters {
    static let L = ScalarBuffer.letter, N = ScalarBuffer.number, S = ScalarBuffer.space, NL = ScalarBuffer.newline

    /// Length of a contraction (`'s`, `'re`, …) starting at `i` (which holds an apostrophe), or 0.
    @inline(__always)
    static func contraction(_ v: [UInt32], _ i: Int, _ hi: Int, caseInsensitive: Bool) -> Int {
        guard i + 1 < hi else { return 0 }
        func low(_ x: UInt32) -> UInt32 { caseInsensitive && x >= 65 && x <= 90 ? x + 32 : x }
        let a = low(v[i + 1])
        switch a {
        case 115, 116, 109, 100: return 2  // s t m d
        case 114, 118, 108:  // r v l
            guard i + 2 < hi else { return 0 }
            let b = low(v[i + 2])
            if (a == 114 && b == 101) || (a == 118 && b == 101) || (a == 108 && b == 108) { return 3 }
            return 0
        default: return 0
        }
    }

    @inline(__always)
    static func run(_ cls: [UInt8], _ j: Int, _ hi: Int, _ pred: (UInt8) -> Bool) -> Int {
        var j = j
        while j < hi && pred(cls[j]) { j += 1 }
        return j
    }

    /// The `\s+(?!\S)|\s+` tail shared by all patterns, at a whitespace scalar `i`.
    @inline(__always)
    static func whitespace(_ cls: [UInt8], _ i: Int, _ hi: Int) -> Int {
        let e = run(cls, i, hi) { $0 & S != 0 }
        if e == hi || e - i < 2 { return e }
        return e - 1
    }

    static func gpt2(_ buf: ScalarBuffer, _ lo: Int, _ hi: Int, _ out: inout [Range<Int>]) {
        let v = buf.value, cls = buf.cls
        var i = lo
        while i < hi {
            var end: Int
            if v[i] == 39, case let k = contraction(v, i, hi, caseInsensitive: false), k > 0 {
                end = i + k
            } else {
                var j = i
                if v[j] == 32 && j + 1 < hi && cls[j + 1] & S == 0 { j += 1 }
                let c = cls[j]
                if c & S != 0 {
                    end = whitespace(cls, i, hi)
                } else if c == L {
                    end = run(cls, j + 1, hi) { $0 == L }
                } else if c == N {
                    end = run(cls, j + 1, hi) { $0 == N }
                } else {
                    end = run(cls, j + 1, hi) { $0 == 0 }
                }
            }
            out.append(i..<end)
            i = end
        }
    }

    static func llama(_ buf: ScalarBuffer, _ lo: Int, _ hi: Int, maxDigits: Int, _ out: inout [Range<Int>]) {
        let v = buf.value, cls = buf.cls
        var i = lo
        while i < hi {
            var end: Int
            let c = cls[i]
            if v[i] == 39, case let k = contraction(v, i, hi, caseInsensitive: true), k > 0 {
                end = i + k
            } else if c == L {
                end = run(cls, i + 1, hi) { $0 == L }
            } else if c & (NL | L | N) == 0 && i + 1 < hi && cls[i + 1] == L {
                end = run(cls, i + 2, hi) { $0 == L }
            } else if c == N {
                end = i + 1
                while end < hi && end - i < maxDigits && cls[end] == N { end += 1 }
            } else if c == 0 || (v[i] == 32 && i + 1 < hi && cls[i + 1] == 0) {
                end = run(cls, c == 0 ? i + 1 : i + 2, hi) { $0 == 0 }
                end = run(cls, end, hi) { $0 & NL != 0 }
            } else {
                // whitespace: `\s*[\r\n]+` ends after the last newline of the run, else the shared tail.
                let e = run(cls, i, hi) { $0 & S != 0 }
                var k = e - 1
                while k >= i && cls[k] & NL == 0 { k -= 1 }
                end = k >= i ? k + 1 : whitespace(cls, i, hi)
            }
            out.append(i..<end)
            i = end
        }
    }
}
