/// Shape changes: free views (`reshaped`, `rows`) and copies (`permuted`, `sliced`, `concatenated`).
extension Tensor {
    /// The same elements with another shape (a view; no copy). One dimension may be `-1`.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            newShape[i] = known == 0 ? 0 : count / known
        }
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let oldShape = shape
        let view = Tensor(storage: storage, offset: offset, shape: newShape)
        return Tensor.record("reshape", view, inputs: [self]) { g in [g.reshaped(oldShape)] }
    }

    /// Rows `range` of axis 0 (a view; no copy).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "rows \(range) of \(shape)")
        let rowSize = count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = range.count
        let view = Tensor(storage: storage, offset: offset + range.lowerBound * rowSize, shape: newShape)
        let fullShape = shape
        return Tensor.record("rows", view, inputs: [self]) { g in
            let t = Tensor.zeros(fullShape)
            (t.base + range.lowerBound * rowSize).update(from: g.base, count: g.count)
            return [t]
        }
    }

    /// A copy with axes reordered: result axis `i` is input axis `axes[i]` (e.g. `[0, 2, 1, 3]` turns
    /// `[batch, sequence, heads, headDim]` into `[batch, heads, sequence, headDim]`).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "bad permutation \(axes) for rank \(rank)")
        let outShape = axes.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = axes.map { inStrides[$0] }
        // Copy rows of the innermost output axis; all leading indices enumerated.
        let inner = outShape.last ?? 1, innerStride = strides.last ?? 1
        let outer = count / Swift.max(inner, 1)
        let (src, dst) = (base, out.base)
        let lead = Array(outShape.dropLast()), leadStrides = Array(strides.dropLast())
        parallelFor(outer, grain: Swift.max(1, 4096 / Swift.max(inner, 1))) { range in
            var idx = [Int](repeating: 0, count: lead.count)
            var rem = range.lowerBound
            for d in stride(from: lead.count - 1, through: 0, by: -1) { idx[d] = rem % lead[d]; rem /= lead[d] }
            for o in range {
                var s = 0
                for d in 0..<lead.count { s += idx[d] * leadStrides[d] }
                let row = dst + o * inner
                if innerStride == 1 { row.update(from: src + s, count: inner) }
                else { for j in 0..<inner { row[j] = src[s + j * innerStride] } }
                var d = lead.count - 1
                while d >= 0 { idx[d] += 1; if idx[d] < lead[d] { break }; idx[d] = 0; d -= 1 }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.record("permute", out, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// The transpose of a matrix (a copy). Prefer the transpose flags of ``matmul(_:_:transposeA:transposeB:)``.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got \(shape)")
        return permuted([1, 0])
    }

    /// Elements `range` along `axis` (a copy).
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) on axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let (src, dst, n) = (base, out.base, shape[axis])
        for o in 0..<outer {
            (dst + o * range.count * inner).update(from: src + (o * n + range.lowerBound) * inner,
                                                   count: range.count * inner)
        }
        let fullShape = shape
        return Tensor.record("slice", out, inputs: [self]) { g in
            let t = Tensor.zeros(fullShape)
            for o in 0..<outer {
                (t.base + (o * n + range.lowerBound) * inner).update(from: g.base + o * range.count * inner,
                                                                     count: range.count * inner)
            }
            return [t]
        }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concatenated(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenated needs at least one tensor")
        let first = parts[0]
        precondition(axis >= 0 && axis < first.rank, "axis \(axis) out of range for \(first.shape)")
        for p in parts {
            var a = p.shape, b = first.shape
            a[axis] = 0; b[axis] = 0
            precondition(a == b && p.rank == first.rank, "cannot concatenate \(p.shape) with \(first.shape)")
        }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        let sizes = parts.map { $0.shape[axis] }
        let total = sizes.reduce(0, +)
        var outShape = first.shape
        outShape[axis] = total
        let out = Tensor(uninitializedShape: outShape)
        var start = 0
        for (p, s) in zip(parts, sizes) {
            for o in 0..<outer {
                (out.base + (o * total + start) * inner).update(from: p.base + o * s * inner, count: s * inner)
            }
            start += s
        }
        return record("concat", out, inputs: parts) { g in
            var begin = 0
            return zip(parts, sizes).map { p, s in
                defer { begin += s }
                return p.requiresGrad ? g.sliced(axis: axis, begin..<(begin + s)) : nil
            }
        }
    }
}

extension Tensor {
    /// Overwrites elements `start ..< start + source.shape[axis]` along `axis` with `source` (no autograd;
    /// copy-on-write). For KV caches: write `[batch, new, kvHeads, headDim]` at sequence position `start` of a
    /// `[batch, capacity, kvHeads, headDim]` cache.
    public mutating func replaceSlice(axis: Int, start: Int, with source: Tensor) {
        precondition(axis >= 0 && axis < rank && source.rank == rank, "replaceSlice axis \(axis): \(source.shape) into \(shape)")
        var a = shape, b = source.shape
        a[axis] = 0; b[axis] = 0
        precondition(a == b && start >= 0 && start + source.shape[axis] <= shape[axis],
                     "cannot write \(source.shape) at \(start) along axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let (n, m) = (shape[axis], source.shape[axis])
        let src = source.base
        withUnsafeMutableBufferPointer { dst in
            for o in 0..<outer {
                (dst.baseAddress! + (o * n + start) * inner).update(from: src + o * m * inner, count: m * inner)
            }
        }
    }
}
