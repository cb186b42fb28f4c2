import Foundation
import LoRAKitFormats
import LoRAKitTokenizers

/// Builds the byte-level BPE tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata.
public enum GGUFTokenizerLoader {
    /// - Throws: ``ModelLoadingError`` when the file has no BPE (`gpt2`) vocabulary, or the tokenizer's error.
    public static func tokenizer(from gguf: GGUFFile) throws -> BPETokenizer {
        try BPETokenizer(try vocabulary(from: gguf))
    }

    /// The vocabulary, merges, special tokens, pre-tokenizer and chat template of a GGUF file.
    /// - Throws: ``ModelLoadingError`` when the file has no BPE (`gpt2`) vocabulary.
    public static func vocabulary(from gguf: GGUFFile) throws -> BPEVocabulary {
        let m = gguf.metadata
        let model = m.string("tokenizer.ggml.model") ?? "gpt2"
        guard model == "gpt2" else {
            throw ModelLoadingError.unreadable(path: gguf.path, reason: "tokenizer model '\(model)' is not supported "
                                               + "(supported: gpt2 byte-level BPE)")
        }
        guard let tokens = m.stringArray("tokenizer.ggml.tokens") else {
            throw ModelLoadingError.unreadable(path: gguf.path, reason: "no tokenizer.ggml.tokens in the metadata")
        }
        func id(_ key: String) -> Int32? { m.int("tokenizer.ggml.\(key)").map { Int32(truncatingIfNeeded: $0) } }
        return try BPEVocabulary(
            tokens: tokens, merges: m.stringArray("tokenizer.ggml.merges") ?? [],
            tokenTypes: m.intArray("tokenizer.ggml.token_type")?.map { Int32(truncatingIfNeeded: $0) },
            bosTokenID: id("bos_token_id"), eosTokenID: id("eos_token_id"), padTokenID: id("padding_token_id"),
            unknownTokenID: id("unknown_token_id"), addBOS: m.bool("tokenizer.ggml.add_bos_token") ?? false,
            addEOS: m.bool("tokenizer.ggml.add_eos_token") ?? false,
            preTokenizer: try BPEPreTokenizer(ggufName: m.string("tokenizer.ggml.pre") ?? "gpt2"),
            chatTemplate: m.string("tokenizer.chat_template"))
    }
}
