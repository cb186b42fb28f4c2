/// Errors raised while building a tokenizer from a file or from GGUF metadata.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The JSON was not what a Hugging Face `tokenizer.json` / `tokenizer_config.json` holds.
    case malformedJSON(path: String, reason: String)
    /// The tokenizer model type is not supported (e.g. `Unigram`).
    case unsupportedModel(String)
    /// The pre-tokenizer is not supported.
    case unsupportedPreTokenizer(String)
    /// A merge rule names a token that is not in the vocabulary, or is not two tokens.
    case invalidMerge(index: Int, merge: String)
    /// Arrays that must have one entry per token disagree in length.
    case lengthMismatch(what: String, expected: Int, actual: Int)
    /// A special-token id is outside the vocabulary.
    case tokenIDOutOfRange(name: String, id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file \(path): \(reason) (hint: check the path and permissions)"
        case let .malformedJSON(path, reason):
            return "malformed tokenizer JSON \(path): \(reason) (hint: is this a Hugging Face tokenizer.json?)"
        case let .unsupportedModel(model):
            return "tokenizer model '\(model)' is not supported (supported: BPE/gpt2, WordPiece)"
        case let .unsupportedPreTokenizer(name):
            return "pre-tokenizer '\(name)' is not supported (supported: gpt2, smollm, llama-bpe, qwen2)"
        case let .invalidMerge(index, merge):
            return "merge #\(index) '\(merge)' is not two vocabulary tokens separated by a space (hint: corrupt merges?)"
        case let .lengthMismatch(what, expected, actual):
            return "\(what) has \(actual) entries but the vocabulary has \(expected)"
        case let .tokenIDOutOfRange(name, id, size):
            return "\(name) id \(id) is outside the vocabulary of \(size) tokens"
        }
    }
}
