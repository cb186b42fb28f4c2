/// An error in a chat template: a syntax error found while parsing, or a failure while rendering
/// (including the template's own `raise_exception(...)`). Always names the line and column (1-based).
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The template does not parse.
        case syntax
        /// Rendering failed (undefined variable used as a value, bad operand types, unknown filter …).
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
    }

    public let kind: Kind
    public let message: String
    public let line: Int
    public let column: Int

    public init(_ kind: Kind, _ message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        switch kind {
        case .syntax: return "chat template syntax error at line \(line), column \(column): \(message)"
        case .runtime: return "chat template error at line \(line), column \(column): \(message)"
        case .raised: return "chat template raised an exception at line \(line), column \(column): \(message)"
        }
    }
}

/// A position in the template source (1-based line and column).
struct SourcePosition: Sendable, Equatable {
    var line: Int
    var column: Int
    static let start = SourcePosition(line: 1, column: 1)
}
