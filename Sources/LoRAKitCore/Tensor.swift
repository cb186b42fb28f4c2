/// A dense, contiguous, row-major `Float` tensor with value semantics.
///
/// Storage is a reference-counted 64-byte aligned buffer (``TensorStorage``); copies share it and mutation copies
/// it first when it is shared (copy-on-write). Views that cost nothing — ``reshaped(_:)`` and ``rows(_:)`` — share
/// the buffer at an offset.
///
/// Dimension legend used in doc comments: `batch, sequence, hidden, heads, headDim, vocab`; `N` = rows.
///
/// A tensor takes part in reverse-mode autograd when it ``requiresGrad``: leaves made with ``requiringGrad()``
/// accumulate ``grad`` when ``backward()`` runs on a scalar that depends on them.
///
/// ```swift
/// var w = Tensor.randomNormal([4, 3], std: 0.02, seed: 1).requiringGrad()
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let loss = linear(x, weight: w).sum()
/// loss.backward()
/// print(w.grad!.shape)  // [4, 3]
/// ```
public struct Tensor: @unchecked Sendable {
    @usableFromInline var storage: TensorStorage
    @usableFromInline var offset: Int
    /// The extent of each axis, outermost first. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    /// Number of elements (product of ``shape``).
    public let count: Int
    /// The autograd node: a leaf for trainable parameters, an op node for results of recorded ops.
    @usableFromInline var node: GradNode?

    @usableFromInline
    init(storage: TensorStorage, offset: Int, shape: [Int], node: GradNode? = nil) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.node = node
    }

    /// An uninitialised tensor; every element must be written before it is read.
    @inlinable
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let n = shape.reduce(1, *)
        self.init(storage: TensorStorage(capacity: n), offset: 0, shape: shape)
    }

    /// A tensor from scalars in row-major order.
    /// - Throws: ``TensorError/countMismatch(shape:scalarCount:)`` when `scalars.count` is not the shape's product.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.negativeDimension(shape: shape) }
        guard shape.reduce(1, *) == scalars.count else {
            throw TensorError.countMismatch(shape: shape, scalarCount: scalars.count)
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: scalars.count) }
        }
    }

    /// A tensor from scalars whose count the caller guarantees (literals in code and tests).
    public init(_ scalars: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not match \(scalars.count) scalars")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { storage.pointer.update(from: b, count: scalars.count) }
        }
    }

    /// A scalar (shape `[]`).
    public init(scalar: Float) { self.init([scalar], shape: []) }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { filled(shape, value: 0) }

    /// A tensor with every element equal to `value`.
    public static func filled(_ shape: [Int], value: Float) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.storage.pointer.update(repeating: value, count: t.count)
        return t
    }

    /// Rank (number of axes).
    @inlinable public var rank: Int { shape.count }

    /// The elements in row-major order (a copy).
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return storage.pointer[offset]
    }

    /// Reads the elements in place.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// Writes the elements in place, copying the buffer first if another tensor shares it.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(capacity: count)
            copy.pointer.update(from: storage.pointer + offset, count: count)
            storage = copy
            offset = 0
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// Writes the elements in place **without** copy-on-write: every tensor sharing this buffer sees the change.
    ///
    /// Meant for optimizers updating trainable parameters that the model also holds. Do not use it on a tensor a
    /// recorded autograd graph still needs for its backward pass.
    @inlinable
    public func withUnsafeSharedMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
    }

    /// Pointer to the first element (internal kernels; read only unless the tensor was just allocated).
    @inlinable var base: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// Whether two tensors share the same buffer and offset.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage && offset == other.offset }

    /// A copy with its own buffer and no autograd history.
    public func copied() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.base.update(from: base, count: count)
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
