import Foundation

/// BERT WordPiece: ``BertBasicTokenizer`` then greedy longest-match-first over the vocabulary, continuation
/// pieces prefixed `##`; `[CLS] … [SEP]` around the text when `addSpecialTokens` is true.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(directory: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
/// tokenizer.encode("Hello, world!", addSpecialTokens: true)   // [101, 7592, 1010, 2088, 999, 102]
/// ```
public final class WordPieceTokenizer: Tokenizer, @unchecked Sendable {
    public let vocabularySize: Int
    public let clsTokenID: Int32?
    public let sepTokenID: Int32?
    public let unknownTokenID: Int32
    public let padTokenID: Int32?
    public var bosTokenID: Int32? { clsTokenID }
    public var eosTokenID: Int32? { sepTokenID }
    /// Words longer than this (in characters) become `[UNK]`.
    public let maxCharactersPerWord: Int

    private let tokens: [String]
    private let ids: [String: Int32]
    private let special: Set<Int32>
    private let basic: BertBasicTokenizer
    private let addedTokens: AddedTokenSplitter

    /// - Parameters:
    ///   - vocabulary: tokens by id (the lines of `vocab.txt`).
    ///   - lowercase: lowercase and strip accents (uncased models).
    /// - Throws: ``TokenizerError/malformedJSON(path:reason:)`` when `[UNK]` is missing.
    public init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil,
                handleChineseCharacters: Bool = true, maxCharactersPerWord: Int = 100,
                specialTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) throws {
        tokens = vocabulary
        vocabularySize = vocabulary.count
        var ids: [String: Int32] = [:]
        for (i, t) in vocabulary.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        self.ids = ids
        guard let unk = ids["[UNK]"] else {
            throw TokenizerError.malformedJSON(path: "vocab.txt", reason: "no [UNK] token")
        }
        unknownTokenID = unk
        clsTokenID = ids["[CLS]"]
        sepTokenID = ids["[SEP]"]
        padTokenID = ids["[PAD]"]
        self.maxCharactersPerWord = maxCharactersPerWord
        let specialPairs = specialTokens.compactMap { t in ids[t].map { (content: t, id: $0) } }
        special = Set(specialPairs.map(\.id))
        addedTokens = AddedTokenSplitter(specialPairs)
        basic = BertBasicTokenizer(lowercase: lowercase, stripAccents: stripAccents ?? lowercase,
                                   handleChineseCharacters: handleChineseCharacters)
    }

    /// Loads `vocab.txt` and, when present, `tokenizer_config.json` (`do_lower_case`, `strip_accents`,
    /// `tokenize_chinese_chars`) from a model directory.
    /// - Throws: ``TokenizerError``.
    public convenience init(directory: URL) throws {
        let vocabURL = directory.appendingPathComponent("vocab.txt")
        let text: String
        do { text = try String(contentsOf: vocabURL, encoding: .utf8) } catch {
            throw TokenizerError.unreadableFile(path: vocabURL.path, reason: error.localizedDescription)
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var config: [String: Any] = [:]
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw TokenizerError.malformedJSON(path: configURL.path, reason: "not a JSON object")
            }
            config = object
        }
        try self.init(vocabulary: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 },
                      lowercase: config["do_lower_case"] as? Bool ?? true,
                      stripAccents: config["strip_accents"] as? Bool,
                      handleChineseCharacters: config["tokenize_chinese_chars"] as? Bool ?? true)
    }

    public func tokenID(for token: String) -> Int32? { ids[token] }
    public func token(for id: Int32) -> String? { id >= 0 && Int(id) < vocabularySize ? tokens[Int(id)] : nil }
    public func isSpecial(_ id: Int32) -> Bool { special.contains(id) }

    /// - Returns: `[CLS] pieces… [SEP]` when `addSpecialTokens`, else the pieces.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var out: [Int32] = []
        if addSpecialTokens, let cls = clsTokenID { out.append(cls) }
        let utf8 = Array(text.utf8)
        let segments = utf8.withUnsafeBufferPointer { addedTokens.split($0) }
        for segment in segments {
            switch segment {
            case .token(let id): out.append(id)
            case .text(let range):
                let piece = String(decoding: utf8[range], as: UTF8.self)
                for word in basic.words(basic.normalize(piece)) { wordPiece(word, into: &out) }
            }
        }
        if addSpecialTokens, let sep = sepTokenID { out.append(sep) }
        return out
    }

    private func wordPiece(_ word: String, into out: inout [Int32]) {
        let chars = Array(word.unicodeScalars)
        if chars.count > maxCharactersPerWord { out.append(unknownTokenID); return }
        var pieces: [Int32] = []
        var start = 0
        while start < chars.count {
            var end = chars.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(chars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = ids[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unknownTokenID); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }

    /// Joins pieces (`##` continuations glued, others space-separated) with BERT's cleanup of spaces
    /// before punctuation and contractions.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        var out = ""
        var first = true
        for id in ids {
            guard let t = token(for: id), !(skipSpecialTokens && special.contains(id)) else { continue }
            var piece = t
            // Compare scalars: "##" followed by a combining mark is one Character ("#ि").
            let scalars = t.unicodeScalars
            let continuation = scalars.count >= 2 && scalars.first == "#" && scalars.dropFirst().first == "#"
            if !first { piece = continuation ? String(String.UnicodeScalarView(scalars.dropFirst(2))) : " " + t }
            first = false
            out += Self.cleanup(piece)
        }
        return out
    }

    static func cleanup(_ s: String) -> String {
        var s = s
        for (a, b) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: a, with: b)
        }
        return s
    }
}
