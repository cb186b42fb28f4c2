import Foundation

extension BPEVocabulary {
    /// The exact split patterns of Hugging Face `tokenizer.json` files that map to our hand-written splitters.
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Reads a Hugging Face `tokenizer.json` (BPE model) and, if given, its `tokenizer_config.json`
    /// (chat template, BOS/EOS/PAD token names, `add_bos_token`, `add_eos_token`).
    /// - Throws: ``TokenizerError`` for unreadable files, non-BPE models or unsupported pre-tokenizers.
    public init(tokenizerJSON: URL, tokenizerConfig: URL? = nil) throws {
        let root = try Self.readObject(tokenizerJSON)
        let path = tokenizerJSON.path
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: path, reason: "no 'model' object")
        }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw TokenizerError.unsupportedModel(type) }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: path, reason: "no 'model.vocab' object")
        }
        var byID: [Int: String] = [:]
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else {
                throw TokenizerError.malformedJSON(path: path, reason: "vocab entry '\(token)' has no integer id")
            }
            byID[id] = token
        }
        var addedTypes: [Int: Int32] = [:]
        for case let added as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let id = (added["id"] as? NSNumber)?.intValue, let content = added["content"] as? String else {
                throw TokenizerError.malformedJSON(path: path, reason: "added token without id/content")
            }
            byID[id] = content
            let isSpecial = (added["special"] as? Bool) ?? false
            addedTypes[id] = isSpecial ? TokenType.control.rawValue : TokenType.userDefined.rawValue
        }
        let count = (byID.keys.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: count)
        var types = [Int32](repeating: TokenType.normal.rawValue, count: count)
        for (id, token) in byID { tokens[id] = token }
        for (id, t) in addedTypes { types[id] = t }
        for id in 0..<count where byID[id] == nil { types[id] = TokenType.unused.rawValue }

        var pairs: [(String, String)] = []
        for (index, merge) in (model["merges"] as? [Any] ?? []).enumerated() {
            if let s = merge as? String, let space = s.firstIndex(of: " ") {
                pairs.append((String(s[..<space]), String(s[s.index(after: space)...])))
            } else if let p = merge as? [String], p.count == 2 {
                pairs.append((p[0], p[1]))
            } else {
                throw TokenizerError.invalidMerge(index: index, merge: "\(merge)")
            }
        }
        let (pre, nfc) = try Self.pipeline(root, path: path)

        var config: [String: Any] = [:]
        if let tokenizerConfig { config = try Self.readObject(tokenizerConfig) }
        func id(_ key: String) -> Int32? {
            let name = (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
            guard let name, let i = tokens.firstIndex(of: name) else { return nil }
            return Int32(i)
        }
        self.init(tokens: tokens, mergePairs: pairs, tokenTypes: types, bosTokenID: id("bos_token"),
                  eosTokenID: id("eos_token"), padTokenID: id("pad_token"), unknownTokenID: id("unk_token"),
                  addBOS: (config["add_bos_token"] as? Bool) ?? false,
                  addEOS: (config["add_eos_token"] as? Bool) ?? false, preTokenizer: pre,
                  ignoreMerges: (model["ignore_merges"] as? Bool) ?? false, normalizeNFC: nfc,
                  chatTemplate: Self.chatTemplate(config["chat_template"]))
    }

    private static func chatTemplate(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        // A list of named templates: take "default".
        for case let named as [String: Any] in value as? [Any] ?? [] where named["name"] as? String == "default" {
            return named["template"] as? String
        }
        return nil
    }

    private static func readObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: "\(error.localizedDescription)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: url.path, reason: "not a JSON object")
        }
        return object
    }

    /// Maps the `normalizer` + `pre_tokenizer` of a tokenizer.json to one of our splitters.
    private static func pipeline(_ root: [String: Any], path: String) throws -> (BPEPreTokenizer, Bool) {
        var nfc = false
        if let normalizer = root["normalizer"] as? [String: Any] {
            guard normalizer["type"] as? String == "NFC" else {
                throw TokenizerError.unsupportedPreTokenizer("normalizer \(normalizer["type"] ?? "?")")
            }
            nfc = true
        }
        guard let pre = root["pre_tokenizer"] as? [String: Any] else {
            throw TokenizerError.unsupportedPreTokenizer("none")
        }
        var steps = [pre]
        if pre["type"] as? String == "Sequence" { steps = pre["pretokenizers"] as? [[String: Any]] ?? [] }
        let kinds = steps.map { $0["type"] as? String ?? "?" }
        func byteLevelOK(_ s: [String: Any], regex: Bool) -> Bool {
            (s["add_prefix_space"] as? Bool ?? false) == false && (s["use_regex"] as? Bool ?? true) == regex
        }
        switch kinds {
        case ["ByteLevel"] where byteLevelOK(steps[0], regex: true):
            return (.gpt2, nfc)
        case ["Digits", "ByteLevel"] where (steps[0]["individual_digits"] as? Bool ?? false)
            && byteLevelOK(steps[1], regex: true):
            return (.smollm, nfc)
        case ["Split", "ByteLevel"] where byteLevelOK(steps[1], regex: false):
            let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String ?? ""
            if pattern == llama3Pattern { return (.llama3, nfc) }
            if pattern == qwen2Pattern { return (.qwen2, nfc) }
            throw TokenizerError.unsupportedPreTokenizer("Split with pattern \(pattern)")
        default:
            throw TokenizerError.unsupportedPreTokenizer(kinds.joined(separator: "+") + " (in \(path))")
        }
    }
}

extension BPETokenizer {
    /// Loads `tokenizer.json` (+ `tokenizer_config.json` when present) from a Hugging Face model directory.
    /// - Throws: ``TokenizerError``.
    public convenience init(directory: URL) throws {
        let config = directory.appendingPathComponent("tokenizer_config.json")
        let hasConfig = FileManager.default.fileExists(atPath: config.path)
        try self.init(BPEVocabulary(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"),
                                    tokenizerConfig: hasConfig ? config : nil))
    }
}
