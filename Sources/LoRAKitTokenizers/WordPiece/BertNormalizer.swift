import Foundation

/// BERT's text cleanup and basic tokenization (Hugging Face `BertNormalizer` + `BertPreTokenizer`):
/// drop control characters, map whitespace to spaces, put spaces around CJK ideographs, strip accents
/// (NFD, drop nonspacing marks) and lowercase, then split on whitespace and isolate every punctuation character.
struct BertBasicTokenizer: Sendable {
    var lowercase: Bool
    var stripAccents: Bool
    var handleChineseCharacters: Bool

    func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if c.value == 0 || c.value == 0xFFFD || Self.isControl(c) { continue }
            if Self.isWhitespace(c) { out.append(" "); continue }
            if handleChineseCharacters && Self.isChinese(c) {
                out.append(" "); out.append(c); out.append(" ")
                continue
            }
            out.append(c)
        }
        var s = String(out)
        if stripAccents {
            let decomposed = s.decomposedStringWithCanonicalMapping.unicodeScalars
            s = String(String.UnicodeScalarView(decomposed.filter { $0.properties.generalCategory != .nonspacingMark }))
        }
        if lowercase { s = s.lowercased() }
        return s
    }

    /// Words after whitespace splitting, each punctuation character on its own.
    func words(_ normalized: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for c in normalized.unicodeScalars {
            if Self.isWhitespace(c) { flush(); continue }
            if Self.isPunctuation(c) {
                flush()
                words.append(String(c))
                continue
            }
            current.append(c)
        }
        flush()
        return words
    }

    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        switch c.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII, let v = Optional(c.value),
           (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isChinese(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
