import Foundation
import LoRAKitFormats

/// Filters (`x | trim`) and tests (`x is defined`).
extension JinjaBuiltins {
    static func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: JinjaObject,
                       at: SourcePosition) throws -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? { i < args.count ? args[i] : kwargs[key] }
        switch name {
        case "trim":
            guard case .string(let s) = v else { return .string(strip(v.printed, nil, leading: true, trailing: true)) }
            let chars: Set<Character>? = { if case .string(let c)? = arg(0, "chars") { return Set(c) }; return nil }()
            return .string(strip(s, chars, leading: true, trailing: true))
        case "length", "count":
            switch v {
            case .undefined: return .int(0)
            case .string(let s): return .int(s.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            default: throw fail("object of type '\(v.typeName)' has no length", at)
            }
        case "string": return .string(v.printed)
        case "upper": return .string(v.printed.uppercased())
        case "lower": return .string(v.printed.lowercased())
        case "title": return .string(title(v.printed))
        case "capitalize":
            let s = v.printed
            return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case "safe": return v
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.isTruthy ?? false
            if case .undefined = v { return fallback }
            return boolean && !v.isTruthy ? fallback : v
        case "join":
            var items = try iterate(v, at: at)
            if case .string(let attribute)? = kwargs["attribute"] {
                items = try items.map { try self.attribute($0, attribute, baseExpr: JinjaExpr(.literal(.none), at), at: at) }
            }
            let separator = arg(0, "d")?.printed ?? ""
            return .string(items.map(\.printed).joined(separator: separator))
        case "first": return try iterate(v, at: at).first ?? .undefined
        case "last": return try iterate(v, at: at).last ?? .undefined
        case "list": return .array(try iterate(v, at: at))
        case "reverse":
            if case .string(let s) = v { return .string(String(s.reversed())) }
            return .array(try iterate(v, at: at).reversed())
        case "unique":
            var seen: [JinjaValue] = []
            for item in try iterate(v, at: at) where !seen.contains(item) { seen.append(item) }
            return .array(seen)
        case "items":
            switch v {
            case .object(let o): return .array(o.entries.map { .array([.string($0.key), $0.value]) })
            case .undefined: return .array([])
            default: throw fail("items filter needs a dict, not \(v.typeName)", at)
            }
        case "dictsort":
            guard case .object(let o) = v else { throw fail("dictsort needs a dict, not \(v.typeName)", at) }
            return .array(o.entries.sorted { $0.key < $1.key }.map { .array([.string($0.key), $0.value]) })
        case "tojson":
            let indent = arg(0, "indent")?.integer
            return .string(JinjaJSON.dump(v, indent: indent, at: at))
        case "int":
            switch v {
            case .string(let s): return .int(Int(s.trimmingCharacters(in: .whitespaces)) ?? Int(Double(s) ?? 0))
            case .double(let d): return .int(Int(d))
            default: return .int(v.integer ?? 0)
            }
        case "float":
            if case .string(let s) = v { return .double(Double(s) ?? 0) }
            return .double(v.number ?? 0)
        case "abs":
            if case .int(let i) = v { return .int(abs(i)) }
            guard let d = v.number else { throw fail("abs needs a number", at) }
            return .double(abs(d))
        case "round":
            guard let d = v.number else { throw fail("round needs a number", at) }
            let digits = arg(0, "precision")?.integer ?? 0
            let scale = pow(10.0, Double(digits))
            return .double((d * scale).rounded() / scale)
        case "replace":
            guard case .string(let old)? = arg(0, "old"), case .string(let new)? = arg(1, "new") else {
                throw fail("replace filter takes two strings", at)
            }
            return .string(old.isEmpty ? v.printed : v.printed.replacingOccurrences(of: old, with: new))
        case "indent":
            let width = arg(0, "width")?.integer ?? 4
            let first = arg(1, "first")?.isTruthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = v.printed.components(separatedBy: "\n")
            return .string(lines.enumerated().map { k, line in
                (k == 0 && !first) || line.isEmpty ? line : pad + line
            }.joined(separator: "\n"))
        case "sum":
            var total = JinjaValue.int(0)
            for item in try iterate(v, at: at) { total = try binary("+", total, item, at: at) }
            return total
        case "min", "max":
            let items = try iterate(v, at: at)
            guard var best = items.first else { return .undefined }
            for item in items.dropFirst() where try binary(name == "min" ? "<" : ">", item, best, at: at).isTruthy {
                best = item
            }
            return best
        case "map":
            let items = try iterate(v, at: at)
            if case .string(let attribute)? = kwargs["attribute"] {
                return .array(try items.map {
                    let got = try self.attribute($0, attribute, baseExpr: JinjaExpr(.literal(.none), at), at: at)
                    if case .undefined = got, let d = kwargs["default"] { return d }
                    return got
                })
            }
            guard case .string(let filterName)? = args.first else { throw fail("map needs a filter name or attribute=", at) }
            return .array(try items.map { try filter(filterName, $0, Array(args.dropFirst()), JinjaObject(), at: at) })
        case "select", "reject":
            guard case .string(let testName)? = args.first else {
                return .array(try iterate(v, at: at).filter { $0.isTruthy == (name == "select") })
            }
            let rest = Array(args.dropFirst())
            return .array(try iterate(v, at: at).filter { try test(testName, $0, rest, at: at) == (name == "select") })
        case "selectattr", "rejectattr":
            guard case .string(let attribute)? = args.first else { throw fail("\(name) needs an attribute name", at) }
            let testName: String? = { if case .string(let t)? = args.dropFirst().first { return t }; return nil }()
            let rest = Array(args.dropFirst(2))
            return .array(try iterate(v, at: at).filter { item in
                let value = try self.attribute(item, attribute, baseExpr: JinjaExpr(.literal(.none), at), at: at)
                let passes = try testName.map { try test($0, value, rest, at: at) } ?? value.isTruthy
                return passes == (name == "selectattr")
            })
        default:
            throw fail("unknown filter '\(name)'", at)
        }
    }

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], at: SourcePosition) throws -> Bool {
        switch name {
        case "defined": if case .undefined = v { return false }; return true
        case "undefined": if case .undefined = v { return true }; return false
        case "none": if case .none = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "number": switch v { case .int, .double: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "mapping": if case .object = v { return true }; return false
        case "sequence", "iterable": switch v { case .array, .object, .string: return true; default: return false }
        case "callable": if case .reference(let r) = v { return r is JinjaFunction }; return false
        case "odd", "even":
            guard let i = v.integer else { throw fail("'\(name)' test needs an integer", at) }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard let i = v.integer, let d = args.first?.integer, d != 0 else { throw fail("divisibleby needs integers", at) }
            return i % d == 0
        case "eq", "equalto", "==": return v == (args.first ?? .undefined)
        case "ne", "!=": return v != (args.first ?? .undefined)
        case "lt", "<", "gt", ">", "le", "<=", "ge", ">=":
            let op = ["lt": "<", "gt": ">", "le": "<=", "ge": ">="][name] ?? name
            return try binary(op, v, args.first ?? .undefined, at: at).isTruthy
        case "in": return try binary("in", v, args.first ?? .undefined, at: at).isTruthy
        case "lower": return v.printed == v.printed.lowercased()
        case "upper": return v.printed == v.printed.uppercased()
        default: throw fail("unknown test '\(name)'", at)
        }
    }
}

/// `json.dumps(value, ensure_ascii=False, indent=…)` as Python writes it (transformers' `tojson`).
enum JinjaJSON {
    static func dump(_ v: JinjaValue, indent: Int?, at: SourcePosition) -> String {
        var out = ""
        write(v, indent: indent, level: 0, into: &out)
        return out
    }

    private static func write(_ v: JinjaValue, indent: Int?, level: Int, into out: inout String) {
        let itemSeparator = indent == nil ? ", " : ","
        func newline(_ l: Int) { if let indent { out += "\n" + String(repeating: " ", count: indent * l) } }
        switch v {
        case .undefined, .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : JinjaValue.pythonFloat(d)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (k, item) in a.enumerated() {
                if k > 0 { out += itemSeparator }
                newline(level + 1)
                write(item, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (k, entry) in o.entries.enumerated() {
                if k > 0 { out += itemSeparator }
                newline(level + 1)
                writeString(entry.key, into: &out)
                out += ": "
                write(entry.value, indent: indent, level: level + 1, into: &out)
            }
            newline(level)
            out += "}"
        case .reference(let r):
            if let ns = r as? JinjaNamespace { write(.object(ns.attributes), indent: indent, level: level, into: &out) }
            else { out += "null" }
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        JSONStringLiteral.append(s, to: &out)
    }
}
