/// Embedding lookup: row `ids[i]` of `weight` for each id.
///
/// Backward scatter-adds into the weight's gradient only when `weight` requires grad.
/// - Parameters:
///   - weight: `[vocab, hidden]`.
///   - ids: token ids, each in `0..<vocab` (the caller's tokenizer guarantees it).
///   - shape: the leading shape of the result (e.g. `[batch, sequence]`); default `[ids.count]`.
/// - Returns: `shape + [hidden]`.
public func embedding(_ weight: Tensor, ids: [Int32], shape: [Int]? = nil) -> Tensor {
    precondition(weight.rank == 2, "embedding weight must be [vocab, hidden], got \(weight.shape)")
    let (vocab, h) = (weight.shape[0], weight.shape[1])
    let lead = shape ?? [ids.count]
    precondition(lead.reduce(1, *) == ids.count, "embedding shape \(lead) does not hold \(ids.count) ids")
    let out = Tensor(uninitializedShape: lead + [h])
    let (pw, po) = (weight.base, out.base)
    ids.withUnsafeBufferPointer { idp in
        for (i, id) in idp.enumerated() {
            precondition(id >= 0 && Int(id) < vocab, "token id \(id) outside the vocabulary 0..<\(vocab)")
            (po + i * h).update(from: pw + Int(id) * h, count: h)
        }
    }
    return Tensor.record("embedding", out, inputs: [weight]) { g in
        let d = Tensor.zeros(weight.shape)
        for (i, id) in ids.enumerated() { Kernels.axpy(1, g.base + i * h, d.base + Int(id) * h, h) }
        return [d]
    }
}
