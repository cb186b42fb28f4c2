/// Recursive-descent parser for the Jinja subset, with Jinja's operator precedence:
/// `x if c else y` < `or` < `and` < `not` < comparisons/`in`/`is` < `+ -` < `~` < `* / // %` < `**` < unary `-`
/// < primary with postfix (`.attr`, `[i]`, `[a:b]`, calls) and filters (`| f`) / tests (`is t`).
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var p = 0

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
        let (body, end) = try parser.parseBody(until: [])
        if let end { throw parser.error("unexpected '{% \(end) %}' with no open block") }
        return body
    }

    private init(tokens: [JinjaToken]) { self.tokens = tokens }

    // MARK: tokens

    private var current: JinjaToken { tokens[p] }
    private func error(_ message: String, at position: SourcePosition? = nil) -> ChatTemplateError {
        let pos = position ?? current.position
        return ChatTemplateError(.syntax, message, line: pos.line, column: pos.column)
    }
    private func describe(_ k: JinjaToken.Kind) -> String {
        switch k {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .integer(let i): return "\(i)"
        case .float(let d): return "\(d)"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }
    private mutating func isOp(_ o: String) -> Bool {
        if case .op(o) = current.kind { return true }
        return false
    }
    private mutating func isName(_ n: String) -> Bool {
        if case .name(n) = current.kind { return true }
        return false
    }
    private mutating func accept(op o: String) -> Bool {
        if isOp(o) { p += 1; return true }
        return false
    }
    private mutating func accept(name n: String) -> Bool {
        if isName(n) { p += 1; return true }
        return false
    }
    private mutating func expect(op o: String) throws {
        guard accept(op: o) else { throw error("expected '\(o)' but found \(describe(current.kind))") }
    }
    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else {
            throw error("expected a name but found \(describe(current.kind))")
        }
        p += 1
        return n
    }
    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else { throw error("expected '%}' but found \(describe(current.kind))") }
        p += 1
    }

    // MARK: statements

    /// Parses nodes until a block tag whose keyword is in `until`; returns that keyword (consumed, without its
    /// `%}` when it has arguments like `elif`).
    private mutating func parseBody(until: Set<String>) throws -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .eof:
                return (nodes, nil)
            case .text(let t):
                p += 1
                nodes.append(.text(t))
            case .variableBegin:
                p += 1
                let e = try parseExpression()
                guard case .variableEnd = current.kind else {
                    throw error("expected '}}' but found \(describe(current.kind))")
                }
                p += 1
                nodes.append(.output(e))
            case .blockBegin:
                p += 1
                let keywordPosition = current.position
                let keyword = try expectName()
                if until.contains(keyword) { return (nodes, keyword) }
                nodes.append(try parseStatement(keyword, at: keywordPosition))
            default:
                throw error("unexpected \(describe(token.kind))")
            }
        }
    }

    private mutating func parseStatement(_ keyword: String, at position: SourcePosition) throws -> JinjaNode {
        switch keyword {
        case "if":
            var branches: [(JinjaExpr, [JinjaNode])] = []
            var condition = try parseExpression()
            try expectBlockEnd()
            while true {
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                switch end {
                case "elif":
                    condition = try parseExpression()
                    try expectBlockEnd()
                case "else":
                    try expectBlockEnd()
                    let (otherwise, end2) = try parseBody(until: ["endif"])
                    guard end2 != nil else { throw error("'{% if %}' at line \(position.line) is never closed", at: position) }
                    try expectBlockEnd()
                    return .ifChain(branches, otherwise: otherwise)
                case "endif":
                    try expectBlockEnd()
                    return .ifChain(branches, otherwise: nil)
                default:
                    throw error("'{% if %}' at line \(position.line) is never closed (missing '{% endif %}')", at: position)
                }
            }
        case "for":
            var targets = [try expectName()]
            while accept(op: ",") { targets.append(try expectName()) }
            guard accept(name: "in") else { throw error("expected 'in' in for loop") }
            let iterable = try parseConditional(allowConditional: false)
            var filter: JinjaExpr?
            if accept(name: "if") { filter = try parseOr() }
            _ = accept(name: "recursive")
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["else", "endfor"])
            var otherwise: [JinjaNode]?
            switch end {
            case "else":
                try expectBlockEnd()
                let (o, end2) = try parseBody(until: ["endfor"])
                guard end2 != nil else { throw error("'{% for %}' at line \(position.line) is never closed", at: position) }
                otherwise = o
            case "endfor": break
            default: throw error("'{% for %}' at line \(position.line) is never closed (missing '{% endfor %}')", at: position)
            }
            try expectBlockEnd()
            return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise,
                            position: position)
        case "set":
            let first = try expectName()
            if accept(op: ".") {
                let attribute = try expectName()
                try expect(op: "=")
                let value = try parseExpression()
                try expectBlockEnd()
                return .set(targets: [first], attribute: attribute, value: value, position: position)
            }
            var targets = [first]
            while accept(op: ",") { targets.append(try expectName()) }
            if accept(op: "=") {
                let value = try parseExpression()
                try expectBlockEnd()
                return .set(targets: targets, attribute: nil, value: value, position: position)
            }
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["endset"])
            guard end != nil else { throw error("'{% set %}' block is never closed", at: position) }
            try expectBlockEnd()
            return .setBlock(name: first, body: body)
        case "macro":
            let name = try expectName()
            try expect(op: "(")
            var parameters: [(String, JinjaExpr?)] = []
            while !accept(op: ")") {
                let param = try expectName()
                parameters.append((param, accept(op: "=") ? try parseExpression() : nil))
                if !isOp(")") { try expect(op: ",") }
            }
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["endmacro"])
            guard end != nil else { throw error("macro '\(name)' is never closed", at: position) }
            try expectBlockEnd()
            return .macro(name: name, parameters: parameters, body: body)
        case "break":
            try expectBlockEnd()
            return .breakLoop(position)
        case "continue":
            try expectBlockEnd()
            return .continueLoop(position)
        case "generation":
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["endgeneration"])
            guard end != nil else { throw error("'{% generation %}' is never closed", at: position) }
            try expectBlockEnd()
            return .block(body)
        default:
            throw error("unknown or misplaced tag '\(keyword)'", at: position)
        }
    }

    // MARK: expressions

    mutating func parseExpression() throws -> JinjaExpr { try parseConditional(allowConditional: true) }

    private mutating func parseConditional(allowConditional: Bool) throws -> JinjaExpr {
        let start = current.position
        var e = try parseOr()
        while allowConditional && accept(name: "if") {
            let condition = try parseOr()
            let otherwise = accept(name: "else") ? try parseConditional(allowConditional: true) : nil
            e = JinjaExpr(.conditional(then: e, condition: condition, otherwise: otherwise), start)
        }
        return e
    }

    private mutating func parseOr() throws -> JinjaExpr {
        var e = try parseAnd()
        while isName("or") {
            let pos = current.position
            p += 1
            e = JinjaExpr(.or(e, try parseAnd()), pos)
        }
        return e
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        var e = try parseNot()
        while isName("and") {
            let pos = current.position
            p += 1
            e = JinjaExpr(.and(e, try parseNot()), pos)
        }
        return e
    }

    private mutating func parseNot() throws -> JinjaExpr {
        if isName("not") {
            let pos = current.position
            p += 1
            return JinjaExpr(.not(try parseNot()), pos)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        var e = try parseMath1()
        while true {
            let pos = current.position
            if case .op(let o) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                p += 1
                e = JinjaExpr(.binary(o, e, try parseMath1()), pos)
            } else if accept(name: "in") {
                e = JinjaExpr(.binary("in", e, try parseMath1()), pos)
            } else if isName("not"), case .name("in") = tokens[p + 1].kind {
                p += 2
                e = JinjaExpr(.not(JinjaExpr(.binary("in", e, try parseMath1()), pos)), pos)
            } else {
                return e
            }
        }
    }

    private mutating func parseMath1() throws -> JinjaExpr {
        var e = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            let pos = current.position
            p += 1
            e = JinjaExpr(.binary(o, e, try parseConcat()), pos)
        }
        return e
    }

    private mutating func parseConcat() throws -> JinjaExpr {
        var e = try parseMath2()
        while isOp("~") {
            let pos = current.position
            p += 1
            e = JinjaExpr(.binary("~", e, try parseMath2()), pos)
        }
        return e
    }

    private mutating func parseMath2() throws -> JinjaExpr {
        var e = try parsePow()
        while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            let pos = current.position
            p += 1
            e = JinjaExpr(.binary(o, e, try parsePow()), pos)
        }
        return e
    }

    private mutating func parsePow() throws -> JinjaExpr {
        var e = try parseUnary(withFilter: true)
        while isOp("**") {
            let pos = current.position
            p += 1
            e = JinjaExpr(.binary("**", e, try parseUnary(withFilter: true)), pos)
        }
        return e
    }

    private mutating func parseUnary(withFilter: Bool) throws -> JinjaExpr {
        let pos = current.position
        var e: JinjaExpr
        if accept(op: "-") {
            e = JinjaExpr(.negate(try parseUnary(withFilter: false)), pos)
        } else if accept(op: "+") {
            e = try parseUnary(withFilter: false)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        return withFilter ? try parseFilterAndTest(e) : e
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let token = current
        let pos = token.position
        switch token.kind {
        case .name(let n):
            p += 1
            switch n {
            case "true", "True": return JinjaExpr(.literal(.bool(true)), pos)
            case "false", "False": return JinjaExpr(.literal(.bool(false)), pos)
            case "none", "None": return JinjaExpr(.literal(.none), pos)
            default: return JinjaExpr(.name(n), pos)
            }
        case .string(var s):
            p += 1
            while case .string(let more) = current.kind { s += more; p += 1 }  // adjacent literals concatenate
            return JinjaExpr(.literal(.string(s)), pos)
        case .integer(let i):
            p += 1
            return JinjaExpr(.literal(.int(i)), pos)
        case .float(let d):
            p += 1
            return JinjaExpr(.literal(.double(d)), pos)
        case .op("("):
            p += 1
            if accept(op: ")") { return JinjaExpr(.tuple([]), pos) }
            let first = try parseExpression()
            if accept(op: ")") { return first }
            var items = [first]
            while accept(op: ",") {
                if isOp(")") { break }
                items.append(try parseExpression())
            }
            try expect(op: ")")
            return JinjaExpr(.tuple(items), pos)
        case .op("["):
            p += 1
            var items: [JinjaExpr] = []
            while !accept(op: "]") {
                items.append(try parseExpression())
                if !isOp("]") { try expect(op: ",") }
            }
            return JinjaExpr(.list(items), pos)
        case .op("{"):
            p += 1
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !accept(op: "}") {
                let key = try parseExpression()
                try expect(op: ":")
                pairs.append((key, try parseExpression()))
                if !isOp("}") { try expect(op: ",") }
            }
            return JinjaExpr(.dict(pairs), pos)
        default:
            throw error("expected an expression but found \(describe(token.kind))")
        }
    }

    private mutating func parsePostfix(_ base: JinjaExpr) throws -> JinjaExpr {
        var e = base
        while true {
            let pos = current.position
            if accept(op: ".") {
                if case .integer(let i) = current.kind {
                    p += 1
                    e = JinjaExpr(.item(e, JinjaExpr(.literal(.int(i)), pos)), pos)
                } else {
                    e = JinjaExpr(.attribute(e, try expectName()), pos)
                }
            } else if accept(op: "[") {
                var parts: [JinjaExpr?] = [nil]
                var sawColon = false
                while !accept(op: "]") {
                    if accept(op: ":") {
                        sawColon = true
                        parts.append(nil)
                        continue
                    }
                    guard parts[parts.count - 1] == nil else { throw error("expected ']' or ':'") }
                    parts[parts.count - 1] = try parseExpression()
                }
                if sawColon {
                    guard parts.count <= 3 else { throw error("a slice takes at most start:stop:step", at: pos) }
                    e = JinjaExpr(.slice(e, start: parts[0], stop: parts.count > 1 ? parts[1] : nil,
                                         step: parts.count > 2 ? parts[2] : nil), pos)
                } else {
                    guard let index = parts[0] else { throw error("empty subscript", at: pos) }
                    e = JinjaExpr(.item(e, index), pos)
                }
            } else if isOp("(") {
                let (args, kwargs) = try parseArguments()
                e = JinjaExpr(.call(e, args: args, kwargs: kwargs), pos)
            } else {
                return e
            }
        }
    }

    private mutating func parseArguments() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        try expect(op: "(")
        var args: [JinjaExpr] = []
        var kwargs: [(String, JinjaExpr)] = []
        while !accept(op: ")") {
            if case .name(let n) = current.kind, case .op("=") = tokens[p + 1].kind {
                p += 2
                kwargs.append((n, try parseExpression()))
            } else {
                args.append(try parseExpression())
            }
            if !isOp(")") { try expect(op: ",") }
        }
        return (args, kwargs)
    }

    private mutating func parseFilterAndTest(_ base: JinjaExpr) throws -> JinjaExpr {
        var e = base
        while true {
            let pos = current.position
            if accept(op: "|") {
                let name = try expectName()
                var args: [JinjaExpr] = []
                var kwargs: [(String, JinjaExpr)] = []
                if isOp("(") { (args, kwargs) = try parseArguments() }
                e = JinjaExpr(.filter(e, name: name, args: args, kwargs: kwargs), pos)
                e = try parsePostfix(e)
            } else if accept(name: "is") {
                let negated = accept(name: "not")
                var name = try expectName()
                if name == "none" || name == "true" || name == "false" { name = name.lowercased() }
                var args: [JinjaExpr] = []
                if isOp("(") {
                    args = try parseArguments().0
                } else if startsTestArgument {
                    // `x is divisibleby 3`, `x is equalto 'a'`: one argument without parentheses.
                    args = [try parseUnary(withFilter: false)]
                }
                e = JinjaExpr(.test(e, name: name, args: args, negated: negated), pos)
            } else {
                return e
            }
        }
    }

    private var startsTestArgument: Bool {
        switch current.kind {
        case .string, .integer, .float: return true
        case .name(let n): return !["and", "or", "else", "if", "is", "in", "not"].contains(n)
        default: return false
        }
    }
}
