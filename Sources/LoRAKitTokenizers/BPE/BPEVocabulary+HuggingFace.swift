import Foundation

extension BPEVocabulary {
    /// A Hugging Face `tokenizer.json` for this vocabulary (tokenizers' byte-level BPE layout), so a model exported
    /// from GGUF loads in transformers and back in LoRAKit with the same ids. Control and user-defined tokens
    /// become added tokens (control ones `special`).
    /// - Throws: ``TokenizerError/unsupportedPreTokenizer(_:)`` for pre-tokenizers without a JSON form here
    ///   (supported: `gpt2`, `smollm`).
    public func huggingFaceTokenizerJSON() throws -> Data {
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                                        "use_regex": true]
        let preTokenizerJSON: [String: Any]
        switch preTokenizer {
        case .gpt2:
            preTokenizerJSON = byteLevel
        case .smollm:
            preTokenizerJSON = ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true] as [String: Any], byteLevel,
            ]]
        default:
            throw TokenizerError.unsupportedPreTokenizer("\(preTokenizer.rawValue) (export to tokenizer.json)")
        }
        var added: [[String: Any]] = []
        for (id, token) in tokens.enumerated() {
            let type = tokenTypes.map { id < $0.count ? $0[id] : TokenType.normal.rawValue } ?? TokenType.normal.rawValue
            guard type == TokenType.control.rawValue || type == TokenType.userDefined.rawValue else { continue }
            added.append(["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                          "normalized": false, "special": type == TokenType.control.rawValue])
        }
        var vocab: [String: Int] = [:]
        for (id, token) in tokens.enumerated() where vocab[token] == nil { vocab[token] = id }
        let document: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": preTokenizerJSON, "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": ignoreMerges, "vocab": vocab, "merges": merges.map { [$0.0, $0.1] }] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    }

    /// A Hugging Face `tokenizer_config.json` naming the special tokens and carrying the chat template.
    public func huggingFaceTokenizerConfigJSON() throws -> Data {
        func token(_ id: Int32?) -> Any { id.flatMap { Int($0) < tokens.count ? tokens[Int($0)] : nil } ?? NSNull() }
        var config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": addBOS, "add_eos_token": addEOS,
            "bos_token": token(bosTokenID), "eos_token": token(eosTokenID), "pad_token": token(padTokenID),
            "unk_token": token(unknownTokenID), "clean_up_tokenization_spaces": false,
            "model_max_length": 8192,
        ]
        if let chatTemplate { config["chat_template"] = chatTemplate }
        return try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
    }
}
