/// One vertex of the autograd graph.
///
/// A *leaf* belongs to a trainable tensor and accumulates its gradient in ``grad``. An *op* node belongs to an
/// op's result and holds the backward rule mapping the output's gradient to its inputs' gradients.
public final class GradNode: @unchecked Sendable {
    /// The op's name (for debugging).
    public let name: String
    @usableFromInline let inputs: [GradNode?]
    /// Maps the gradient of the output to one gradient per input (`nil` where the input needs none).
    @usableFromInline let rule: ((Tensor) -> [Tensor?])?
    /// The accumulated gradient of a leaf.
    public internal(set) var grad: Tensor?

    init(leafNamed name: String) {
        self.name = name
        self.inputs = []
        self.rule = nil
    }

    @usableFromInline
    init(name: String, inputs: [GradNode?], rule: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.rule = rule
    }

    /// Whether this is a leaf (a trainable tensor).
    public var isLeaf: Bool { rule == nil }
}

extension Tensor {
    /// Whether gradients flow to this tensor (a trainable leaf, or a result of ops on one).
    @inlinable public var requiresGrad: Bool { node != nil }

    /// This tensor as a trainable leaf: ``backward()`` accumulates into its ``grad``.
    /// Copies of the returned value share the leaf (and its gradient).
    public func requiringGrad(name: String = "leaf") -> Tensor {
        var t = self
        t.node = GradNode(leafNamed: name)
        return t
    }

    /// The same values without autograd history (a frozen tensor).
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// The gradient accumulated in a leaf by ``backward()``, or `nil` before any.
    ///
    /// It may share its buffer with other gradients (e.g. both operands of an addition): modify it through a
    /// `var` copy and ``withUnsafeMutableBufferPointer(_:)`` (copy-on-write), never through
    /// ``withUnsafeSharedMutableBufferPointer(_:)``.
    public var grad: Tensor? { node?.isLeaf == true ? node?.grad : nil }

    /// Forgets the accumulated gradient of a leaf (the next backward starts from zero).
    public func zeroGrad() { if node?.isLeaf == true { node?.grad = nil } }

    /// Records `result` as the output of an op when grad mode is on and some input requires grad.
    ///
    /// - Parameters:
    ///   - inputs: the op's tensor inputs, in the order `rule` returns gradients.
    ///   - rule: maps the output gradient (shape of `result`) to one gradient per input, each of that input's
    ///     shape, `nil` for inputs that need none (`inputs[i].requiresGrad == false`).
    @inlinable
    public static func record(_ name: String, _ result: Tensor, inputs: [Tensor],
                              rule: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
        var out = result
        out.node = GradNode(name: name, inputs: inputs.map { $0.node }, rule: rule)
        return out
    }

    /// Whether an op on these inputs will be recorded (so it should keep what its backward needs).
    @inlinable
    public static func isRecording(_ inputs: Tensor...) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.node != nil }
    }
}
