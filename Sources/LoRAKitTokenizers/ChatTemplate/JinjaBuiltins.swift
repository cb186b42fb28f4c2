import Foundation

/// Operators, attribute/item access, globals (`raise_exception`, `namespace`, `range`, `strftime_now`)
/// and the methods templates call on strings and dicts. Filters and tests live in `JinjaBuiltins+Filters.swift`.
enum JinjaBuiltins {
    static func fail(_ message: String, _ at: SourcePosition) -> ChatTemplateError {
        ChatTemplateError(.runtime, message, line: at.line, column: at.column)
    }

    static let globals: [String: JinjaValue] = [
        "raise_exception": .reference(JinjaFunction("raise_exception") { args, _, at in
            throw ChatTemplateError(.raised, args.first?.printed ?? "raise_exception() called",
                                    line: at.line, column: at.column)
        }),
        "namespace": .reference(JinjaFunction("namespace") { args, kwargs, at in
            var attributes = JinjaObject()
            if case .object(let o)? = args.first { attributes = o }
            for (k, v) in kwargs.entries { attributes[k] = v }
            return .reference(JinjaNamespace(attributes))
        }),
        "range": .reference(JinjaFunction("range") { args, _, at in
            let ints = args.compactMap(\.integer)
            guard ints.count == args.count, (1...3).contains(ints.count) else {
                throw fail("range() takes 1 to 3 integers", at)
            }
            let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count > 2 ? ints[2] : 1)
            guard step != 0 else { throw fail("range() step must not be zero", at) }
            guard abs((stop - start) / step) <= 1_000_000 else { throw fail("range() is too long", at) }
            return .array(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
        }),
        "strftime_now": .reference(JinjaFunction("strftime_now") { args, _, at in
            guard case .string(let format)? = args.first else { throw fail("strftime_now() takes a format string", at) }
            return .string(strftime(format, Date()))
        }),
    ]

    /// A small `strftime` (%d %m %Y %y %b %B %a %A %H %M %S %j %%) in UTC-free local time.
    static func strftime(_ format: String, _ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone.current, from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        var out = ""
        var it = format.makeIterator()
        func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
        while let ch = it.next() {
            guard ch == "%", let f = it.next() else { out.append(ch); continue }
            switch f {
            case "d": out += two(c.day)
            case "m": out += two(c.month)
            case "Y": out += String(c.year ?? 0)
            case "y": out += two((c.year ?? 0) % 100)
            case "b": out += String(months[(c.month ?? 1) - 1].prefix(3))
            case "B": out += months[(c.month ?? 1) - 1]
            case "a": out += String(days[(c.weekday ?? 1) - 1].prefix(3))
            case "A": out += days[(c.weekday ?? 1) - 1]
            case "H": out += two(c.hour)
            case "M": out += two(c.minute)
            case "S": out += two(c.second)
            case "%": out += "%"
            default: out += "%" + String(f)
            }
        }
        return out
    }

    // MARK: iteration and access

    static func iterate(_ v: JinjaValue, at: SourcePosition) throws -> [JinjaValue] {
        switch v {
        case .undefined: return []
        case .array(let a): return a
        case .object(let o): return o.keys.map { .string($0) }
        case .string(let s): return s.map { .string(String($0)) }
        default: throw fail("'\(v.typeName)' object is not iterable", at)
        }
    }

    static func attribute(_ base: JinjaValue, _ name: String, baseExpr: JinjaExpr, at: SourcePosition) throws -> JinjaValue {
        switch base {
        case .undefined:
            throw fail("cannot read '\(name)' of an undefined value", at)
        case .object(let o):
            if let method = objectMethod(o, name) { return method }
            return o[name] ?? .undefined
        case .reference(let r):
            if let ns = r as? JinjaNamespace { return ns.attributes[name] ?? .undefined }
            return .undefined
        case .string(let s):
            return stringMethod(s, name) ?? .undefined
        default:
            return .undefined
        }
    }

    static func item(_ base: JinjaValue, _ index: JinjaValue, baseExpr: JinjaExpr, at: SourcePosition) throws -> JinjaValue {
        switch (base, index) {
        case (.undefined, _):
            throw fail("cannot index an undefined value", at)
        case let (.object(o), .string(k)):
            return o[k] ?? .undefined
        case let (.reference(r), .string(k)):
            return (r as? JinjaNamespace)?.attributes[k] ?? .undefined
        case let (.array(a), _):
            guard let i = index.integer else { throw fail("list indices must be integers, not \(index.typeName)", at) }
            let j = i < 0 ? a.count + i : i
            return j >= 0 && j < a.count ? a[j] : .undefined
        case let (.string(s), _):
            guard let i = index.integer else { throw fail("string indices must be integers, not \(index.typeName)", at) }
            let chars = Array(s)
            let j = i < 0 ? chars.count + i : i
            return j >= 0 && j < chars.count ? .string(String(chars[j])) : .undefined
        default:
            return .undefined
        }
    }

    static func slice(_ base: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?,
                      at: SourcePosition) throws -> JinjaValue {
        func pick<T>(_ items: [T]) throws -> [T] {
            let n = items.count
            let st = step.flatMap { $0 == .none ? nil : $0.integer } ?? 1
            guard st != 0 else { throw fail("slice step cannot be zero", at) }
            func norm(_ v: JinjaValue?, _ dflt: Int) -> Int {
                guard let v, let i = v.integer else { return dflt }
                let j = i < 0 ? i + n : i
                return st > 0 ? min(max(j, 0), n) : min(max(j, -1), n - 1)
            }
            var i = norm(start, st > 0 ? 0 : n - 1)
            let e = norm(stop, st > 0 ? n : -1)
            var out: [T] = []
            while st > 0 ? i < e : i > e {
                out.append(items[i])
                i += st
            }
            return out
        }
        switch base {
        case .array(let a): return .array(try pick(a))
        case .string(let s): return .string(String(try pick(Array(s))))
        case .undefined: throw fail("cannot slice an undefined value", at)
        default: throw fail("'\(base.typeName)' object is not subscriptable", at)
        }
    }

    // MARK: methods

    private static func method(_ name: String, _ body: @escaping JinjaFunction.Body) -> JinjaValue {
        .reference(JinjaFunction(name, body))
    }

    static func objectMethod(_ o: JinjaObject, _ name: String) -> JinjaValue? {
        switch name {
        case "items": return method(name) { _, _, _ in .array(o.entries.map { .array([.string($0.key), $0.value]) }) }
        case "keys": return method(name) { _, _, _ in .array(o.keys.map { .string($0) }) }
        case "values": return method(name) { _, _, _ in .array(o.entries.map(\.value)) }
        case "get":
            return method(name) { args, _, at in
                guard case .string(let k)? = args.first else { throw fail("dict.get() takes a string key", at) }
                return o[k] ?? (args.count > 1 ? args[1] : .none)
            }
        default: return nil
        }
    }

    static func stringMethod(_ s: String, _ name: String) -> JinjaValue? {
        func chars(_ args: [JinjaValue]) -> Set<Character>? {
            if case .string(let c)? = args.first { return Set(c) }
            return nil
        }
        switch name {
        case "strip": return method(name) { a, _, _ in .string(strip(s, chars(a), leading: true, trailing: true)) }
        case "lstrip": return method(name) { a, _, _ in .string(strip(s, chars(a), leading: true, trailing: false)) }
        case "rstrip": return method(name) { a, _, _ in .string(strip(s, chars(a), leading: false, trailing: true)) }
        case "upper": return method(name) { _, _, _ in .string(s.uppercased()) }
        case "lower": return method(name) { _, _, _ in .string(s.lowercased()) }
        case "title": return method(name) { _, _, _ in .string(title(s)) }
        case "capitalize": return method(name) { _, _, _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
        case "startswith", "endswith":
            return method(name) { a, _, at in
                let options: [String]
                switch a.first {
                case .string(let p)?: options = [p]
                case .array(let ps)?: options = ps.map(\.printed)
                default: throw fail("\(name)() takes a string", at)
                }
                return .bool(options.contains { name == "startswith" ? s.hasPrefix($0) : s.hasSuffix($0) })
            }
        case "replace":
            return method(name) { a, _, at in
                guard a.count >= 2, case .string(let old) = a[0], case .string(let new) = a[1] else {
                    throw fail("replace() takes two strings", at)
                }
                return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new))
            }
        case "split":
            return method(name) { a, _, _ in
                if case .string(let sep)? = a.first, !sep.isEmpty {
                    return .array(s.components(separatedBy: sep).map { .string($0) })
                }
                return .array(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
            }
        case "find":
            return method(name) { a, _, at in
                guard case .string(let sub)? = a.first else { throw fail("find() takes a string", at) }
                guard let r = s.range(of: sub) else { return .int(-1) }
                return .int(s.distance(from: s.startIndex, to: r.lowerBound))
            }
        case "count":
            return method(name) { a, _, at in
                guard case .string(let sub)? = a.first, !sub.isEmpty else { throw fail("count() takes a string", at) }
                return .int(s.components(separatedBy: sub).count - 1)
            }
        case "join":
            return method(name) { a, _, at in
                .string(try iterate(a.first ?? .array([]), at: at).map(\.printed).joined(separator: s))
            }
        default: return nil
        }
    }

    static func strip(_ s: String, _ set: Set<Character>?, leading: Bool, trailing: Bool) -> String {
        let drop: (Character) -> Bool = { set?.contains($0) ?? $0.isWhitespace }
        var sub = Substring(s)
        if leading { sub = sub.drop(while: drop) }
        if trailing { while let last = sub.last, drop(last) { sub = sub.dropLast() } }
        return String(sub)
    }

    static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for ch in s {
            out += previousIsLetter ? ch.lowercased() : ch.uppercased()
            previousIsLetter = ch.isLetter
        }
        return out
    }

    // MARK: operators

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, at: SourcePosition) throws -> JinjaValue {
        switch op {
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "~": return .string(a.printed + b.printed)
        case "in":
            switch b {
            case .string(let s):
                guard case .string(let sub) = a else { throw fail("'in <string>' needs a string on the left", at) }
                return .bool(sub.isEmpty || s.contains(sub))
            case .array(let items): return .bool(items.contains(a))
            case .object(let o):
                if case .string(let k) = a { return .bool(o[k] != nil) }
                return .bool(false)
            case .undefined: throw fail("'in' on an undefined value", at)
            default: throw fail("argument of type '\(b.typeName)' is not iterable", at)
            }
        case "<", ">", "<=", ">=":
            let order: Int
            if let x = a.number, let y = b.number { order = x < y ? -1 : (x > y ? 1 : 0) }
            else if case .string(let x) = a, case .string(let y) = b { order = x < y ? -1 : (x > y ? 1 : 0) }
            else { throw fail("'\(op)' not supported between \(a.typeName) and \(b.typeName)", at) }
            switch op {
            case "<": return .bool(order < 0)
            case ">": return .bool(order > 0)
            case "<=": return .bool(order <= 0)
            default: return .bool(order >= 0)
            }
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.array(x), .array(y)): return .array(x + y)
            default: break
            }
        case "*":
            if case .string(let s) = a, let n = b.integer { return .string(String(repeating: s, count: max(n, 0))) }
            if case .array(let s) = a, let n = b.integer { return .array(Array([[JinjaValue]](repeating: s, count: max(n, 0)).joined())) }
        default: break
        }
        if let x = a.integer, let y = b.integer {
            switch op {
            case "+": return .int(x &+ y)
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "/":
                guard y != 0 else { throw fail("division by zero", at) }
                return .double(Double(x) / Double(y))
            case "//":
                guard y != 0 else { throw fail("integer division by zero", at) }
                return .int(Int((Double(x) / Double(y)).rounded(.down)))
            case "%":
                guard y != 0 else { throw fail("modulo by zero", at) }
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case "**":
                return y >= 0 ? .int(Int(pow(Double(x), Double(y)))) : .double(pow(Double(x), Double(y)))
            default: break
            }
        }
        if let x = a.number, let y = b.number {
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/":
                guard y != 0 else { throw fail("division by zero", at) }
                return .double(x / y)
            case "//":
                guard y != 0 else { throw fail("division by zero", at) }
                return .double((x / y).rounded(.down))
            case "%":
                guard y != 0 else { throw fail("modulo by zero", at) }
                return .double(x - y * (x / y).rounded(.down))
            case "**": return .double(pow(x, y))
            default: break
            }
        }
        throw fail("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'", at)
    }
}
