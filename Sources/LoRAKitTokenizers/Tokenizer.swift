/// Text ↔ token ids, the interface every tokenizer in LoRAKit implements.
///
/// Ids are `Int32` (GGUF and the model's embedding rows use them). Implementations are immutable after
/// construction and safe to share across threads, apart from any internal caches they lock themselves.
public protocol Tokenizer: Sendable {
    /// Encodes `text` into token ids.
    /// - Parameters:
    ///   - text: any Unicode text; special tokens written in it (e.g. `<|im_start|>`) become their ids.
    ///   - addSpecialTokens: add the model's BOS (and EOS/CLS/SEP where the model does) around the text.
    /// - Returns: ids, `[tokens]`.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32]

    /// Decodes ids back into text.
    /// - Parameters:
    ///   - ids: `[tokens]`; ids outside the vocabulary are skipped.
    ///   - skipSpecialTokens: leave out control tokens such as `<|im_end|>`.
    func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String

    /// Number of ids (the model's embedding rows may be more, never fewer).
    var vocabularySize: Int { get }
    /// Beginning-of-sequence id, if the model has one.
    var bosTokenID: Int32? { get }
    /// End-of-sequence id, if the model has one (generation stops on it).
    var eosTokenID: Int32? { get }
    /// Padding id, if the model has one.
    var padTokenID: Int32? { get }
    /// The id of a token string (`"<|im_end|>"`), or nil.
    func tokenID(for token: String) -> Int32?
    /// The token string of an id (byte-level form for BPE), or nil.
    func token(for id: Int32) -> String?
    /// Whether `id` is a special (control) token.
    func isSpecial(_ id: Int32) -> Bool
}

extension Tokenizer {
    /// Encodes `text` adding the model's special tokens (BOS where the model wants one).
    public func encode(_ text: String) -> [Int32] { encode(text, addSpecialTokens: true) }
    /// Decodes ids keeping special tokens.
    public func decode(_ ids: [Int32]) -> String { decode(ids, skipSpecialTokens: false) }
}
