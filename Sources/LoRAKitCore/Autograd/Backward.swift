extension Tensor {
    /// Back-propagates from this scalar (one-element) tensor: every trainable leaf it depends on adds
    /// d(self)/d(leaf) to its ``grad``.
    public func backward() {
        precondition(count == 1, "backward() needs a one-element loss, got shape \(shape)")
        backward(seed: Tensor.filled(shape, value: 1))
    }

    /// Back-propagates `seed` (the gradient of some scalar with respect to this tensor, same shape).
    public func backward(seed: Tensor) {
        precondition(seed.shape == shape, "seed shape \(seed.shape) differs from \(shape)")
        guard let root = node else { return }
        withNoGrad {
            // Topological order by iterative depth-first search.
            var order: [GradNode] = []
            var visited = Set<ObjectIdentifier>()
            var stack: [(GradNode, Int)] = [(root, 0)]
            visited.insert(ObjectIdentifier(root))
            while let (n, i) = stack.popLast() {
                if i < n.inputs.count {
                    stack.append((n, i + 1))
                    if let child = n.inputs[i], visited.insert(ObjectIdentifier(child)).inserted {
                        stack.append((child, 0))
                    }
                } else {
                    order.append(n)
                }
            }
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed.detached()]
            for n in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(n)) else { continue }
                guard let rule = n.rule else {
                    if var old = n.grad {
                        n.grad = nil  // drop the node's reference so the add can run in place
                        old.accumulate(g)
                        n.grad = old
                    } else {
                        n.grad = g
                    }
                    continue
                }
                let inputGrads = rule(g)
                for (child, cg) in zip(n.inputs, inputGrads) {
                    guard let child, let cg else { continue }
                    let id = ObjectIdentifier(child)
                    if var old = grads.removeValue(forKey: id) {
                        old.accumulate(cg)
                        grads[id] = old
                    } else {
                        grads[id] = cg
                    }
                }
            }
        }
    }

    /// `self += other` elementwise without recording (copies first only if the buffer is shared).
    mutating func accumulate(_ other: Tensor) {
        precondition(shape == other.shape, "gradient shapes differ: \(shape) vs \(other.shape)")
        node = nil
        let src = other.base
        let n = count
        withUnsafeMutableBufferPointer { dst in Kernels.addInPlace(dst.baseAddress!, src, n) }
    }
}
