/// Everything needed to build a byte-level BPE tokenizer, in the raw form GGUF metadata stores it.
///
/// Fill it from GGUF keys: `tokenizer.ggml.tokens` → ``tokens``, `tokenizer.ggml.merges` → ``merges``,
/// `tokenizer.ggml.token_type` → ``tokenTypes``, `tokenizer.ggml.{bos,eos,padding,unknown}_token_id`,
/// `tokenizer.ggml.add_bos_token` / `add_eos_token`, `tokenizer.ggml.pre` → ``preTokenizer`` (via
/// ``BPEPreTokenizer/init(ggufName:)``), `tokenizer.chat_template` → ``chatTemplate``.
///
/// ```swift
/// let vocabulary = try BPEVocabulary(tokens: tokens, merges: merges, tokenTypes: types,
///                                    bosTokenID: 1, eosTokenID: 2, padTokenID: 2, addBOS: false,
///                                    preTokenizer: try BPEPreTokenizer(ggufName: "smollm"))
/// let tokenizer = try BPETokenizer(vocabulary)
/// ```
public struct BPEVocabulary: Sendable {
    /// GGUF token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Token strings by id, in byte-level form (`Ġthe`); control/user-defined tokens as plain text (`<|im_end|>`).
    public var tokens: [String]
    /// Merge rules in rank order, each a pair of token strings.
    public var merges: [(String, String)]
    /// One GGUF token type per token, or nil (then every token is normal).
    public var tokenTypes: [Int32]?
    public var bosTokenID: Int32?
    public var eosTokenID: Int32?
    public var padTokenID: Int32?
    public var unknownTokenID: Int32?
    /// Prepend BOS when encoding with `addSpecialTokens: true`.
    public var addBOS: Bool
    /// Append EOS when encoding with `addSpecialTokens: true`.
    public var addEOS: Bool
    public var preTokenizer: BPEPreTokenizer
    /// Emit a whole word as one token when it is in the vocabulary, before any merge (Llama-3 style).
    public var ignoreMerges: Bool
    /// Apply Unicode NFC to text before pre-tokenization (Qwen2 `tokenizer.json`).
    public var normalizeNFC: Bool
    /// The Jinja chat template, if the model ships one.
    public var chatTemplate: String?

    /// Creates a vocabulary from GGUF-style arrays; merges are `"left right"` strings.
    /// - Throws: ``TokenizerError/invalidMerge(index:merge:)`` when a merge is not two space-separated parts.
    public init(tokens: [String], merges: [String], tokenTypes: [Int32]? = nil, bosTokenID: Int32? = nil,
                eosTokenID: Int32? = nil, padTokenID: Int32? = nil, unknownTokenID: Int32? = nil,
                addBOS: Bool = false, addEOS: Bool = false, preTokenizer: BPEPreTokenizer = .gpt2,
                ignoreMerges: Bool = false, normalizeNFC: Bool = false, chatTemplate: String? = nil) throws {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (index, merge) in merges.enumerated() {
            guard let space = merge.firstIndex(of: " ", after: merge.startIndex) else {
                throw TokenizerError.invalidMerge(index: index, merge: merge)
            }
            pairs.append((String(merge[..<space]), String(merge[merge.index(after: space)...])))
        }
        self.init(tokens: tokens, mergePairs: pairs, tokenTypes: tokenTypes, bosTokenID: bosTokenID,
                  eosTokenID: eosTokenID, padTokenID: padTokenID, unknownTokenID: unknownTokenID, addBOS: addBOS,
                  addEOS: addEOS, preTokenizer: preTokenizer, ignoreMerges: ignoreMerges,
                  normalizeNFC: normalizeNFC, chatTemplate: chatTemplate)
    }

    /// Creates a vocabulary from merge pairs.
    public init(tokens: [String], mergePairs: [(String, String)], tokenTypes: [Int32]? = nil,
                bosTokenID: Int32? = nil, eosTokenID: Int32? = nil, padTokenID: Int32? = nil,
                unknownTokenID: Int32? = nil, addBOS: Bool = false, addEOS: Bool = false,
                preTokenizer: BPEPreTokenizer = .gpt2, ignoreMerges: Bool = false, normalizeNFC: Bool = false,
                chatTemplate: String? = nil) {
        self.tokens = tokens
        self.merges = mergePairs
        self.tokenTypes = tokenTypes
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
        self.unknownTokenID = unknownTokenID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
        self.normalizeNFC = normalizeNFC
        self.chatTemplate = chatTemplate
    }
}

extension String {
    /// First index of `c` at or after `start`, skipping a leading `c` (merges like `"Ġ Ġ"` have a first part
    /// that is never empty, but a part may itself be a space-free token).
    fileprivate func firstIndex(of c: Character, after start: Index) -> Index? {
        guard start < endIndex else { return nil }
        return self[index(after: start)...].firstIndex(of: c)
    }
}
