/// Renders a parsed template. Scopes: the context at the bottom, one scope per `for` body and macro call
/// (so `set` inside a loop does not leak out, as in Jinja); `if` opens no scope.
final class JinjaEvaluator {
    private var scopes: [[String: JinjaValue]]
    private var output = ""
    private var steps = 0
    /// Guard against runaway templates (`range(10**9)`): rendering more steps than this throws.
    static let maxSteps = 10_000_000

    private enum LoopControl: Error { case breakLoop, continueLoop }

    init(context: [String: JinjaValue]) {
        scopes = [JinjaBuiltins.globals, context]
    }

    func render(_ nodes: [JinjaNode]) throws -> String {
        do {
            try execute(nodes)
        } catch is LoopControl {
            throw ChatTemplateError(.syntax, "'break'/'continue' outside a loop", line: 1, column: 1)
        }
        return output
    }

    // MARK: variables

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    private func assign(_ name: String, _ value: JinjaValue) {
        scopes[scopes.count - 1][name] = value
    }

    // MARK: statements

    private func execute(_ nodes: [JinjaNode]) throws {
        for node in nodes { try execute(node) }
    }

    private func execute(_ node: JinjaNode) throws {
        steps += 1
        if steps > Self.maxSteps {
            throw ChatTemplateError(.runtime, "template exceeded \(Self.maxSteps) steps", line: 1, column: 1)
        }
        switch node {
        case .text(let t):
            output += t
        case .output(let e):
            output += try evaluate(e).printed
        case let .ifChain(branches, otherwise):
            for (condition, body) in branches where try evaluate(condition).isTruthy {
                try execute(body)
                return
            }
            if let otherwise { try execute(otherwise) }
        case let .forLoop(targets, iterable, filter, body, otherwise, position):
            try runLoop(targets, try evaluate(iterable), filter, body, otherwise, position)
        case let .set(targets, attribute, valueExpr, position):
            let value = try evaluate(valueExpr)
            if let attribute {
                guard case .reference(let r) = lookup(targets[0]), let ns = r as? JinjaNamespace else {
                    throw ChatTemplateError(.runtime, "cannot set attribute '\(attribute)' on '\(targets[0])' (not a namespace)",
                                            line: position.line, column: position.column)
                }
                ns.attributes[attribute] = value
            } else if targets.count == 1 {
                assign(targets[0], value)
            } else {
                let items = try JinjaBuiltins.iterate(value, at: position)
                guard items.count == targets.count else {
                    throw ChatTemplateError(.runtime, "cannot unpack \(items.count) values into \(targets.count) names",
                                            line: position.line, column: position.column)
                }
                for (t, v) in zip(targets, items) { assign(t, v) }
            }
        case let .setBlock(name, body):
            let saved = output
            output = ""
            try execute(body)
            let captured = output
            output = saved
            assign(name, .string(captured))
        case let .macro(name, parameters, body):
            assign(name, .reference(makeMacro(name, parameters, body)))
        case .breakLoop:
            throw LoopControl.breakLoop
        case .continueLoop:
            throw LoopControl.continueLoop
        case .block(let body):
            try execute(body)
        }
    }

    private func runLoop(_ targets: [String], _ iterable: JinjaValue, _ filter: JinjaExpr?, _ body: [JinjaNode],
                         _ otherwise: [JinjaNode]?, _ position: SourcePosition) throws {
        var items = try JinjaBuiltins.iterate(iterable, at: position)
        scopes.append([:])
        defer { scopes.removeLast() }
        if let filter {
            items = try items.filter { item in
                try bind(targets, item, position)
                return try evaluate(filter).isTruthy
            }
        }
        if items.isEmpty {
            if let otherwise { try execute(otherwise) }
            return
        }
        let n = items.count
        for (k, item) in items.enumerated() {
            var loop = JinjaObject()
            loop["index"] = .int(k + 1)
            loop["index0"] = .int(k)
            loop["revindex"] = .int(n - k)
            loop["revindex0"] = .int(n - k - 1)
            loop["first"] = .bool(k == 0)
            loop["last"] = .bool(k == n - 1)
            loop["length"] = .int(n)
            loop["previtem"] = k > 0 ? items[k - 1] : .undefined
            loop["nextitem"] = k + 1 < n ? items[k + 1] : .undefined
            assign("loop", .object(loop))
            try bind(targets, item, position)
            do {
                try execute(body)
            } catch LoopControl.continueLoop {
                continue
            } catch LoopControl.breakLoop {
                break
            }
        }
    }

    private func bind(_ targets: [String], _ item: JinjaValue, _ position: SourcePosition) throws {
        if targets.count == 1 {
            assign(targets[0], item)
            return
        }
        let parts = try JinjaBuiltins.iterate(item, at: position)
        guard parts.count == targets.count else {
            throw ChatTemplateError(.runtime, "cannot unpack \(parts.count) values into \(targets.count) loop variables",
                                    line: position.line, column: position.column)
        }
        for (t, v) in zip(targets, parts) { assign(t, v) }
    }

    private func makeMacro(_ name: String, _ parameters: [(String, JinjaExpr?)], _ body: [JinjaNode]) -> JinjaFunction {
        JinjaFunction(name) { [unowned self] args, kwargs, at in
            var scope: [String: JinjaValue] = [:]
            for (k, (param, defaultExpr)) in parameters.enumerated() {
                if k < args.count { scope[param] = args[k] }
                else if let v = kwargs[param] { scope[param] = v }
                else if let defaultExpr { scope[param] = try self.evaluate(defaultExpr) }
                else { scope[param] = .undefined }
            }
            let saved = self.output
            self.output = ""
            self.scopes.append(scope)
            defer {
                self.scopes.removeLast()
            }
            try self.execute(body)
            let result = self.output
            self.output = saved
            return .string(result)
        }
    }

    // MARK: expressions

    func evaluate(_ e: JinjaExpr) throws -> JinjaValue {
        let at = e.position
        switch e.kind {
        case .literal(let v):
            return v
        case .name(let n):
            return lookup(n)
        case .list(let items):
            return .array(try items.map(evaluate))
        case .tuple(let items):
            return .array(try items.map(evaluate))
        case .dict(let pairs):
            var o = JinjaObject()
            for (k, v) in pairs {
                let key = try evaluate(k)
                guard case .string(let s) = key else {
                    throw ChatTemplateError(.runtime, "dictionary keys must be strings, not \(key.typeName)",
                                            line: k.position.line, column: k.position.column)
                }
                o[s] = try evaluate(v)
            }
            return .object(o)
        case let .attribute(base, name):
            return try JinjaBuiltins.attribute(try evaluate(base), name, baseExpr: base, at: at)
        case let .item(base, index):
            return try JinjaBuiltins.item(try evaluate(base), try evaluate(index), baseExpr: base, at: at)
        case let .slice(base, start, stop, step):
            return try JinjaBuiltins.slice(try evaluate(base), try start.map(evaluate), try stop.map(evaluate),
                                           try step.map(evaluate), at: at)
        case let .call(callee, args, kwargs):
            let f = try evaluate(callee)
            guard case .reference(let r) = f, let function = r as? JinjaFunction else {
                throw ChatTemplateError(.runtime, "\(describe(callee)) is not callable (\(f.typeName))",
                                        line: at.line, column: at.column)
            }
            var kw = JinjaObject()
            for (k, v) in kwargs { kw[k] = try evaluate(v) }
            return try function.body(try args.map(evaluate), kw, at)
        case let .filter(base, name, args, kwargs):
            var kw = JinjaObject()
            for (k, v) in kwargs { kw[k] = try evaluate(v) }
            return try JinjaBuiltins.filter(name, try evaluate(base), try args.map(evaluate), kw, at: at)
        case let .test(base, name, args, negated):
            let result = try JinjaBuiltins.test(name, try evaluate(base), try args.map(evaluate), at: at)
            return .bool(result != negated)
        case .not(let x):
            return .bool(!(try evaluate(x).isTruthy))
        case .negate(let x):
            let v = try evaluate(x)
            switch v {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default:
                throw ChatTemplateError(.runtime, "bad operand type for unary -: \(v.typeName)",
                                        line: at.line, column: at.column)
            }
        case let .and(a, b):
            let x = try evaluate(a)
            return x.isTruthy ? try evaluate(b) : x
        case let .or(a, b):
            let x = try evaluate(a)
            return x.isTruthy ? x : try evaluate(b)
        case let .binary(op, a, b):
            return try JinjaBuiltins.binary(op, try evaluate(a), try evaluate(b), at: at)
        case let .conditional(then, condition, otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined
        }
    }

    private func describe(_ e: JinjaExpr) -> String {
        switch e.kind {
        case .name(let n): return "'\(n)'"
        case .attribute(_, let n): return "'\(n)'"
        default: return "the expression"
        }
    }
}
