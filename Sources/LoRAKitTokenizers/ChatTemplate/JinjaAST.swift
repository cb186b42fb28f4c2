/// Syntax tree of the Jinja subset.
final class JinjaExpr: @unchecked Sendable {  // immutable after parsing
    indirect enum Kind {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpr])
        case tuple([JinjaExpr])
        case dict([(JinjaExpr, JinjaExpr)])
        case attribute(JinjaExpr, String)
        case item(JinjaExpr, JinjaExpr)
        case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?)
        case call(JinjaExpr, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
        case filter(JinjaExpr, name: String, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
        case test(JinjaExpr, name: String, args: [JinjaExpr], negated: Bool)
        case not(JinjaExpr)
        case negate(JinjaExpr)
        case and(JinjaExpr, JinjaExpr)
        case or(JinjaExpr, JinjaExpr)
        case binary(String, JinjaExpr, JinjaExpr)
        case conditional(then: JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
    }
    let kind: Kind
    let position: SourcePosition
    init(_ kind: Kind, _ position: SourcePosition) {
        self.kind = kind
        self.position = position
    }
}

indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr)
    case ifChain([(condition: JinjaExpr, body: [JinjaNode])], otherwise: [JinjaNode]?)
    case forLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode],
                 otherwise: [JinjaNode]?, position: SourcePosition)
    /// `set name = value`, `set a, b = value` or `set ns.attr = value`.
    case set(targets: [String], attribute: String?, value: JinjaExpr, position: SourcePosition)
    /// `{% set name %}…{% endset %}`.
    case setBlock(name: String, body: [JinjaNode])
    case macro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode])
    case breakLoop(SourcePosition)
    case continueLoop(SourcePosition)
    /// A block rendered as is (`{% generation %}…{% endgeneration %}`).
    case block([JinjaNode])
}
