import Foundation

/// A value inside a chat template, with Python/Jinja semantics for truthiness, printing and equality.
///
/// Objects keep their key order (templates print tool schemas with `tojson`, whose key order is visible).
public indirect enum JinjaValue: Sendable, Equatable {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(JinjaObject)
    /// A `namespace(...)` (mutable through `set ns.attr = …`) or a callable; compared by identity.
    case reference(JinjaReference)

    /// Converts JSON-like Swift values (`String`, `Int`, `Double`, `Bool`, `[Any]`, `[String: Any]`, `NSNull`).
    /// Dictionary key order is sorted for `[String: Any]` (use ``JinjaObject`` to keep an order).
    public init(any value: Any?) {
        switch value {
        case nil, is NSNull: self = .none
        case let v as JinjaValue: self = v
        case let v as String: self = .string(v)
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double: self = .double(v)
        case let v as Float: self = .double(Double(v))
        case let v as [Any]: self = .array(v.map { JinjaValue(any: $0) })
        case let v as [String: Any]:
            self = .object(JinjaObject(v.keys.sorted().map { ($0, JinjaValue(any: v[$0])) }))
        default: self = .string("\(value ?? "")")
        }
    }

    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .reference: return true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "none"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "string"
        case .array: return "list"
        case .object: return "dict"
        case .reference(let r): return r is JinjaNamespace ? "namespace" : "function"
        }
    }

    /// `str(value)` as Python prints it (`{{ value }}`).
    var printed: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// `repr(value)` as Python prints it inside containers.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.pythonFloat(d)
        case .string(let s):
            let quote = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var out = quote
            for c in s.unicodeScalars {
                switch c {
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if String(c) == quote { out += "\\" + quote } else { out.unicodeScalars.append(c) }
                }
            }
            return out + quote
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.entries.map { "'\($0.key)': \($0.value.repr)" }.joined(separator: ", ") + "}"
        case .reference(let r): return r.repr
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded() && abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    /// Python `==`: numbers compare by value across int/float/bool, containers element-wise.
    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        case let (.reference(x), .reference(y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Numeric value for arithmetic and comparison (bools count as 0/1, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// An insertion-ordered string-keyed dictionary (a Python dict as templates see it).
public struct JinjaObject: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: JinjaValue)] = []
    private var index: [String: Int] = [:]

    public init(_ pairs: [(String, JinjaValue)] = []) {
        for (k, v) in pairs { self[k] = v }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> JinjaValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let i = index[key] {
                if let newValue { entries[i].value = newValue } else {
                    entries.remove(at: i)
                    index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
                }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    public static func == (a: JinjaObject, b: JinjaObject) -> Bool {
        a.count == b.count && a.entries.allSatisfy { b[$0.key] == $0.value }
    }
}

/// Reference-typed template values: namespaces and callables.
public class JinjaReference: @unchecked Sendable {
    var repr: String { "<object>" }
}

/// `namespace(...)`: attributes assignable with `{% set ns.name = value %}` from inner scopes.
final class JinjaNamespace: JinjaReference, @unchecked Sendable {
    var attributes = JinjaObject()
    init(_ attributes: JinjaObject) { self.attributes = attributes }
    override var repr: String { "<Namespace " + JinjaValue.object(attributes).repr + ">" }
}

/// A function callable from a template (`raise_exception`, `range`, macros, bound methods).
final class JinjaFunction: JinjaReference, @unchecked Sendable {
    typealias Body = (_ args: [JinjaValue], _ kwargs: JinjaObject, _ at: SourcePosition) throws -> JinjaValue
    let name: String
    let body: Body
    init(_ name: String, _ body: @escaping Body) {
        self.name = name
        self.body = body
    }
    override var repr: String { "<function \(name)>" }
}
