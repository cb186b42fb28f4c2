import Foundation

/// Byte-level BPE (GPT-2, SmolLM2, Llama-3, Qwen2): added tokens split out first, then a pre-tokenizer, then
/// merges by rank over UTF-8 bytes. Build it from GGUF metadata (``init(_:)`` with a ``BPEVocabulary``) or from
/// a Hugging Face directory (``init(directory:)``).
///
/// ```swift
/// let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: "SmolLM2-135M-Instruct"))
/// let ids = tokenizer.encode("Hello world", addSpecialTokens: false)   // [19556, 905] for SmolLM2
/// tokenizer.decode(ids, skipSpecialTokens: true)                       // "Hello world"
/// ```
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    public let vocabularySize: Int
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let padTokenID: Int32?
    public let unknownTokenID: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    public let preTokenizer: BPEPreTokenizer
    /// The chat template that came with the vocabulary, if any.
    public let chatTemplateSource: String?

    let tokenStrings: [String]
    let tokenBytes: [[UInt8]]
    let special: [Bool]
    private let idOfToken: [String: Int32]
    private let idOfBytes: [[UInt8]: Int32]
    private let mergeTable: [UInt64: UInt64]
    private let byteTokenID: [Int32]
    private let ignoreMerges: Bool
    private let normalizeNFC: Bool
    private let addedTokens: AddedTokenSplitter
    // The word cache (word bytes → ids) is shared and locked; `@unchecked Sendable` rests on this lock.
    private let cacheLock = NSLock()
    private var cache: [[UInt8]: [Int32]] = [:]
    private static let cacheLimit = 200_000

    /// Builds a tokenizer from GGUF-style arrays.
    /// Bytes that have no single-byte token (SmolLM2 lacks 21 of them) are dropped when encoding, as the
    /// reference does for a model without an unknown token.
    /// - Throws: ``TokenizerError`` when the merges name unknown tokens, token types disagree in length or
    ///   special ids are out of range.
    public init(_ vocabulary: BPEVocabulary) throws {
        let count = vocabulary.tokens.count
        if let types = vocabulary.tokenTypes, types.count != count {
            throw TokenizerError.lengthMismatch(what: "token types", expected: count, actual: types.count)
        }
        for (name, id) in [("bos", vocabulary.bosTokenID), ("eos", vocabulary.eosTokenID),
                           ("pad", vocabulary.padTokenID), ("unknown", vocabulary.unknownTokenID)] {
            if let id, id < 0 || Int(id) >= count {
                throw TokenizerError.tokenIDOutOfRange(name: name, id: Int(id), vocabularySize: count)
            }
        }
        vocabularySize = count
        bosTokenID = vocabulary.bosTokenID
        eosTokenID = vocabulary.eosTokenID
        padTokenID = vocabulary.padTokenID
        unknownTokenID = vocabulary.unknownTokenID
        addBOS = vocabulary.addBOS
        addEOS = vocabulary.addEOS
        preTokenizer = vocabulary.preTokenizer
        ignoreMerges = vocabulary.ignoreMerges
        normalizeNFC = vocabulary.normalizeNFC
        chatTemplateSource = vocabulary.chatTemplate
        tokenStrings = vocabulary.tokens

        var idOfToken: [String: Int32] = [:]
        idOfToken.reserveCapacity(count)
        var idOfBytes: [[UInt8]: Int32] = [:]
        var tokenBytes: [[UInt8]] = []
        tokenBytes.reserveCapacity(count)
        var special = [Bool](repeating: false, count: count)
        var added: [(content: String, id: Int32)] = []
        for (i, token) in vocabulary.tokens.enumerated() {
            let id = Int32(i)
            if idOfToken[token] == nil { idOfToken[token] = id }
            let type = vocabulary.tokenTypes?[i] ?? BPEVocabulary.TokenType.normal.rawValue
            if type == BPEVocabulary.TokenType.control.rawValue || type == BPEVocabulary.TokenType.userDefined.rawValue {
                special[i] = type == BPEVocabulary.TokenType.control.rawValue
                added.append((token, id))
                tokenBytes.append(Array(token.utf8))
            } else if let bytes = ByteLevel.bytes(ofToken: token) {
                tokenBytes.append(bytes)
                if idOfBytes[bytes] == nil { idOfBytes[bytes] = id }
            } else {
                tokenBytes.append(Array(token.utf8))
            }
        }
        var byteTokenID = [Int32](repeating: -1, count: 256)
        for b in 0..<256 { byteTokenID[b] = idOfBytes[[UInt8(b)]] ?? -1 }
        var mergeTable: [UInt64: UInt64] = [:]
        mergeTable.reserveCapacity(vocabulary.merges.count)
        for (rank, pair) in vocabulary.merges.enumerated() {
            guard let a = idOfToken[pair.0], let b = idOfToken[pair.1], let merged = idOfToken[pair.0 + pair.1] else {
                throw TokenizerError.invalidMerge(index: rank, merge: pair.0 + " " + pair.1)
            }
            let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
            if mergeTable[key] == nil { mergeTable[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
        }
        self.idOfToken = idOfToken
        self.idOfBytes = idOfBytes
        self.tokenBytes = tokenBytes
        self.special = special
        self.byteTokenID = byteTokenID
        self.mergeTable = mergeTable
        self.addedTokens = AddedTokenSplitter(added)
    }

    public func tokenID(for token: String) -> Int32? { idOfToken[token] }

    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < vocabularySize ? tokenStrings[Int(id)] : nil
    }

    public func isSpecial(_ id: Int32) -> Bool { id >= 0 && Int(id) < vocabularySize && special[Int(id)] }

    /// Raw bytes of a token (UTF-8 fragments for byte-level tokens), or nil for an id outside the vocabulary.
    public func bytes(for id: Int32) -> [UInt8]? {
        id >= 0 && Int(id) < vocabularySize ? tokenBytes[Int(id)] : nil
    }

    /// Encodes text; special tokens written in the text become their ids.
    /// - Parameters:
    ///   - addSpecialTokens: prepend BOS / append EOS as the vocabulary asks (``BPEVocabulary/addBOS``).
    /// - Returns: `[tokens]`.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        encode(text, addSpecialTokens: addSpecialTokens, parseSpecialTokens: true)
    }

    /// Encodes text, optionally treating special-token strings in it as plain text
    /// (`parseSpecialTokens: false`, for untrusted user content).
    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecialTokens: Bool) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialTokens, addBOS, let bos = bosTokenID { out.append(bos) }
        var state = EncodeState(merger: BPEMerger(merges: mergeTable, byteTokenID: byteTokenID))
        let utf8 = Array(text.utf8)
        utf8.withUnsafeBufferPointer { all in
            let segments: [AddedTokenSplitter.Segment] =
                parseSpecialTokens ? addedTokens.split(all) : (all.isEmpty ? [] : [.text(0..<all.count)])
            for segment in segments {
                switch segment {
                case .token(let id): out.append(id)
                case .text(let range):
                    let slice = UnsafeBufferPointer(rebasing: all[range])
                    if normalizeNFC {
                        let s = String(decoding: slice, as: UTF8.self)
                        let normalized = Array(s.precomposedStringWithCanonicalMapping.utf8)
                        normalized.withUnsafeBufferPointer { encodePlain($0, &state, &out) }
                    } else {
                        encodePlain(slice, &state, &out)
                    }
                }
            }
        }
        flush(&state)
        if addSpecialTokens, addEOS, let eos = eosTokenID { out.append(eos) }
        return out
    }

    /// Per-call scratch: the merger's buffers, the scalar buffer and words learned in this call.
    private struct EncodeState {
        var merger: BPEMerger
        var scalars = ScalarBuffer()
        var words: [Range<Int>] = []
        var learned: [[UInt8]: [Int32]] = [:]
    }

    private func encodePlain(_ bytes: UnsafeBufferPointer<UInt8>, _ state: inout EncodeState, _ out: inout [Int32]) {
        state.scalars.load(bytes)
        state.words.removeAll(keepingCapacity: true)
        preTokenizer.split(state.scalars, into: &state.words)
        let offsets = state.scalars.offset
        for word in state.words {
            let wordBytes = UnsafeBufferPointer(rebasing: bytes[offsets[word.lowerBound]..<offsets[word.upperBound]])
            if wordBytes.count == 1 {
                let id = byteTokenID[Int(wordBytes[0])]
                if id >= 0 { out.append(id) }
                continue
            }
            let key = Array(wordBytes)
            if let hit = state.learned[key] { out.append(contentsOf: hit); continue }
            cacheLock.lock()
            let cached = cache[key]
            cacheLock.unlock()
            if let cached { out.append(contentsOf: cached); state.learned[key] = cached; continue }
            let start = out.count
            if ignoreMerges, let id = idOfBytes[key] {
                out.append(id)
            } else {
                state.merger.merge(wordBytes, into: &out)
            }
            state.learned[key] = Array(out[start...])
        }
    }

    private func flush(_ state: inout EncodeState) {
        guard !state.learned.isEmpty else { return }
        cacheLock.lock()
        if cache.count + state.learned.count > Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache.merge(state.learned) { old, _ in old }
        cacheLock.unlock()
    }

    /// Decodes ids to text; invalid UTF-8 (a split multi-byte character) becomes U+FFFD, as in the reference.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        appendBytes(of: ids, skipSpecialTokens: skipSpecialTokens, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func appendBytes(of ids: [Int32], skipSpecialTokens: Bool, to bytes: inout [UInt8]) {
        for id in ids where id >= 0 && Int(id) < vocabularySize {
            if skipSpecialTokens && special[Int(id)] { continue }
            bytes.append(contentsOf: tokenBytes[Int(id)])
        }
    }
}
