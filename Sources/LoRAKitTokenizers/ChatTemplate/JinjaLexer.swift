/// Splits a Jinja template into text and tag tokens, applying whitespace control the way transformers'
/// environment does (`trim_blocks=True`, `lstrip_blocks=True`, and `-` markers on tags).
struct JinjaToken: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String), string(String), integer(Int), float(Double), op(String)
        case eof
    }
    let kind: Kind
    let position: SourcePosition
}

struct JinjaLexer {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private var column = 1
    private var tokens: [JinjaToken] = []

    init(_ source: String) { s = Array(source.unicodeScalars) }

    static func tokenize(_ source: String) throws -> [JinjaToken] {
        var lexer = JinjaLexer(source)
        try lexer.run()
        return lexer.tokens
    }

    private var position: SourcePosition { SourcePosition(line: line, column: column) }

    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    private mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where i < s.count {
            if s[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
    }

    private func error(_ message: String, _ p: SourcePosition? = nil) -> ChatTemplateError {
        let p = p ?? position
        return ChatTemplateError(.syntax, message, line: p.line, column: p.column)
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}"
    }

    private mutating func run() throws {
        var text = String.UnicodeScalarView()
        var textStart = position
        var stripLeading = false       // a previous `-%}` / `-}}` strips the whitespace that follows
        var lineStarting = true        // the previous tag ended with a newline (or we are at the start)
        func flushText(into tokens: inout [JinjaToken]) {
            if !text.isEmpty { tokens.append(JinjaToken(kind: .text(String(text)), position: textStart)) }
            text = String.UnicodeScalarView()
        }
        while i < s.count {
            let c = s[i]
            if stripLeading {
                if Self.isSpace(c) { advance(); continue }
                stripLeading = false
            }
            if c == "{", let n = peek(1), n == "{" || n == "%" || n == "#" {
                let tagPosition = position
                let minus = peek(2) == "-"
                let plus = peek(2) == "+"
                if minus {
                    while let last = text.last, Self.isSpace(last) { text.removeLast() }
                } else if !plus && n != "{" {
                    // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                    let scalars = Array(text)
                    var lp = scalars.count
                    while lp > 0 && scalars[lp - 1] != "\n" { lp -= 1 }
                    if lp > 0 || lineStarting {
                        let tail = scalars[lp...]
                        if !tail.isEmpty && tail.allSatisfy({ Self.isSpace($0) }) {
                            text = String.UnicodeScalarView(scalars[..<lp])
                        }
                    }
                }
                flushText(into: &tokens)
                advance(minus || plus ? 3 : 2)
                if n == "#" {
                    // Comment: skip to `#}`.
                    var closed = false
                    var endMinus = false
                    while i < s.count {
                        if s[i] == "#", peek(1) == "}" {
                            endMinus = i > 0 && s[i - 1] == "-"
                            advance(2)
                            closed = true
                            break
                        }
                        advance()
                    }
                    guard closed else { throw error("unterminated comment", tagPosition) }
                    lineStarting = false
                    if endMinus { stripLeading = true } else if peek() == "\n" { advance(); lineStarting = true }
                    textStart = position
                    continue
                }
                tokens.append(JinjaToken(kind: n == "{" ? .variableBegin : .blockBegin, position: tagPosition))
                let endMinus = try lexExpression(block: n == "%", opened: tagPosition)
                lineStarting = false
                if endMinus {
                    stripLeading = true
                } else if n == "%" && peek() == "\n" {
                    advance()  // trim_blocks
                    lineStarting = true
                }
                textStart = position
                continue
            }
            if text.isEmpty { textStart = position }
            text.append(c)
            advance()
        }
        flushText(into: &tokens)
        tokens.append(JinjaToken(kind: .eof, position: position))
    }

    /// Lexes expression tokens up to the closing `}}` / `%}`; returns whether it was `-}}` / `-%}`.
    private mutating func lexExpression(block: Bool, opened: SourcePosition) throws -> Bool {
        var depth = 0
        while true {
            guard let c = peek() else {
                throw error("unterminated \(block ? "{% … %}" : "{{ … }}") tag", opened)
            }
            if Self.isSpace(c) { advance(); continue }
            let p = position
            // Closing delimiters (optionally with `-`).
            let closer: Unicode.Scalar = block ? "%" : "}"
            if depth == 0 {
                if c == "-" || c == "+", peek(1) == closer, peek(2) == "}" {
                    advance(3)
                    tokens.append(JinjaToken(kind: block ? .blockEnd : .variableEnd, position: p))
                    return c == "-"
                }
                if c == closer, peek(1) == "}" {
                    advance(2)
                    tokens.append(JinjaToken(kind: block ? .blockEnd : .variableEnd, position: p))
                    return false
                }
            }
            if c == "_" || c.properties.isAlphabetic {
                var name = String.UnicodeScalarView()
                while let d = peek(), d == "_" || d.properties.isAlphabetic || ("0"..."9").contains(d) {
                    name.append(d)
                    advance()
                }
                tokens.append(JinjaToken(kind: .name(String(name)), position: p))
            } else if ("0"..."9").contains(c) {
                var digits = ""
                var isFloat = false
                while let d = peek(), ("0"..."9").contains(d) || d == "_" ||
                        (d == "." && !isFloat && peek(1).map { ("0"..."9").contains($0) } == true) {
                    if d == "." { isFloat = true }
                    if d != "_" { digits.unicodeScalars.append(d) }
                    advance()
                }
                if isFloat {
                    guard let v = Double(digits) else { throw error("bad number '\(digits)'", p) }
                    tokens.append(JinjaToken(kind: .float(v), position: p))
                } else {
                    guard let v = Int(digits) else { throw error("integer '\(digits)' is too large", p) }
                    tokens.append(JinjaToken(kind: .integer(v), position: p))
                }
            } else if c == "'" || c == "\"" {
                tokens.append(JinjaToken(kind: .string(try lexString(quote: c)), position: p))
            } else {
                let two = peek(1).map { String(c) + String($0) } ?? ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    tokens.append(JinjaToken(kind: .op(two), position: p))
                    advance(2)
                } else if "+-*/%~<>()[]{},:.|=".unicodeScalars.contains(c) {
                    if c == "(" || c == "[" || c == "{" { depth += 1 }
                    if c == ")" || c == "]" || c == "}" { depth -= 1 }
                    tokens.append(JinjaToken(kind: .op(String(c)), position: p))
                    advance()
                } else {
                    throw error("unexpected character '\(c)'", p)
                }
            }
        }
    }

    private mutating func lexString(quote: Unicode.Scalar) throws -> String {
        let start = position
        advance()
        var out = String.UnicodeScalarView()
        while let c = peek() {
            if c == quote { advance(); return String(out) }
            if c == "\\", let e = peek(1) {
                advance(2)
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "a": out.append("\u{07}")
                case "\\", "'", "\"": out.append(e)
                case "\n": break
                case "u", "U", "x":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<width { if let h = peek() { hex.unicodeScalars.append(h); advance() } }
                    guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                        throw error("bad escape \\\(e)\(hex) in string", start)
                    }
                    out.append(scalar)
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            advance()
        }
        throw error("unterminated string", start)
    }
}
