import CBLAS
import Foundation

/// The label that marks a position without loss (PyTorch's `ignore_index`).
public let ignoreIndex: Int32 = -100

/// Mean cross-entropy of `hidden · weightᵀ` against `targets`, computed in vocabulary chunks so the
/// `[rows, vocab]` logits are never all in memory (forward keeps only a running log-sum-exp per row; backward
/// recomputes each chunk's logits). When `hidden` records gradients and the head is frozen (training a LoRA on a
/// tied head), the gradient is made in the forward pass instead, a block of rows at a time, and nothing is
/// recomputed.
///
/// Backward gives the gradient of `hidden`, and of `weight` only when `weight` requires grad (a frozen, tied
/// output head costs no weight-gradient GEMM).
/// - Parameters:
///   - hidden: `[rows, hidden]` (flatten `[batch, sequence]` first).
///   - weight: `[vocab, hidden]` (the output projection / tied embedding).
///   - targets: `rows` labels in `0..<vocab`, or ``ignoreIndex``.
///   - chunkSize: vocabulary rows per chunk.
/// - Returns: a scalar, the mean over non-ignored rows (0 when all are ignored).
public func linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: [Int32], chunkSize: Int = 8192) -> Tensor {
    linearCrossEntropy(hidden: hidden, head: .float32(weight), targets: targets, chunkSize: chunkSize)
}

/// ``linearCrossEntropy(hidden:weight:targets:chunkSize:)`` with a frozen bf16 head (`--dtype bf16`): both chunk
/// products run on the bf16 GEMM; the gradient flows to `hidden` only.
public func linearCrossEntropy(hidden: Tensor, weight: BF16Matrix, targets: [Int32], chunkSize: Int = 8192) -> Tensor {
    linearCrossEntropy(hidden: hidden, head: .bfloat16(weight), targets: targets, chunkSize: chunkSize)
}

private func linearCrossEntropy(hidden: Tensor, head weight: ProjectionWeight, targets: [Int32], chunkSize: Int) -> Tensor {
    precondition(hidden.rank == 2 && hidden.shape[1] == weight.shape[1],
                 "linearCrossEntropy expects hidden [rows, h] and weight [vocab, h]; got \(hidden.shape), \(weight.shape)")
    let (n, h, vocab) = (hidden.shape[0], hidden.shape[1], weight.shape[0])
    precondition(targets.count == n, "linearCrossEntropy needs \(n) targets, got \(targets.count)")
    for t in targets { precondition(t == ignoreIndex || (t >= 0 && Int(t) < vocab), "target \(t) outside 0..<\(vocab)") }
    let valid = targets.filter { $0 != ignoreIndex }.count
    if Tensor.isRecording(hidden) && weight.trainable == nil {
        return fusedLinearCrossEntropy(hidden: hidden, head: weight, targets: targets, valid: valid)
    }
    let chunk = Swift.max(1, Swift.min(chunkSize, vocab))
    let logits = Tensor(uninitializedShape: [n, chunk])
    var runMax = [Float](repeating: -.infinity, count: n), runSum = [Float](repeating: 0, count: n)
    var targetLogit = [Float](repeating: 0, count: n)
    let (ph, pl) = (hidden.base, logits.base)
    runMax.withUnsafeMutableBufferPointer { mp in
        runSum.withUnsafeMutableBufferPointer { sp in
            targetLogit.withUnsafeMutableBufferPointer { zp in
                targets.withUnsafeBufferPointer { tp in
                    let (m, s, z, t) = (mp.baseAddress!, sp.baseAddress!, zp.baseAddress!, tp.baseAddress!)
                    var c0 = 0
                    while c0 < vocab {
                        let c = Swift.min(chunk, vocab - c0)
                        weight.product(ph, rows: n, from: c0, count: c, into: pl)
                        parallelFor(n, grain: Swift.max(1, 16384 / c)) { range in
                            for r in range where t[r] != ignoreIndex {
                                let row = pl + r * c
                                let newMax = Swift.max(m[r], Kernels.rowMax(row, c))
                                s[r] = s[r] * Foundation.exp(m[r] - newMax) + expSum(row, c, shift: newMax)
                                m[r] = newMax
                                let tr = Int(t[r]) - c0
                                if tr >= 0 && tr < c { z[r] = row[tr] }
                            }
                        }
                        c0 += c
                    }
                }
            }
        }
    }
    var total = 0.0
    var lse = [Float](repeating: 0, count: n)
    for r in 0..<n where targets[r] != ignoreIndex {
        lse[r] = runMax[r] + Foundation.log(runSum[r])
        total += Double(lse[r] - targetLogit[r])
    }
    let loss = Tensor(scalar: valid == 0 ? 0 : Float(total / Double(valid)))
    return Tensor.record("linearCrossEntropy", loss, inputs: [hidden] + weight.recordedInputs) { g in
        let factor = valid == 0 ? 0 : g.scalar / Float(valid)
        let dh = hidden.requiresGrad ? Tensor.zeros(hidden.shape) : nil
        let dw = weight.trainable.map { Tensor(uninitializedShape: $0.shape) }
        let buffer = Tensor(uninitializedShape: [n, chunk])
        let pb = buffer.base
        lse.withUnsafeBufferPointer { lp in
            targets.withUnsafeBufferPointer { tp in
                let (l, t) = (lp.baseAddress!, tp.baseAddress!)
                var c0 = 0
                while c0 < vocab {
                    let c = Swift.min(chunk, vocab - c0)
                    weight.product(ph, rows: n, from: c0, count: c, into: pb)
                    parallelFor(n, grain: Swift.max(1, 16384 / c)) { range in
                        for r in range {
                            let row = pb + r * c
                            if t[r] == ignoreIndex { row.update(repeating: 0, count: c); continue }
                            softmaxScaled(row, c, shift: l[r], factor: factor)
                            let tr = Int(t[r]) - c0
                            if tr >= 0 && tr < c { row[tr] -= factor }
                        }
                    }
                    if let dh { weight.addInputGradient(pb, rows: n, from: c0, count: c, into: dh.base) }
                    if let dw {  // dW_c = dLᵀ · hidden
                        Kernels.gemm(transA: true, transB: false, m: c, n: h, k: n, a: pb, lda: c, b: ph, ldb: h,
                                     c: dw.base + c0 * h, ldc: h)
                    }
                    c0 += c
                }
            }
        }
        return weight.recordedInputs.isEmpty ? [dh] : [dh, dw]
    }
}

/// Logits per block of ``fusedLinearCrossEntropy`` (32 MiB of fp32).
private let fusedLogitsBudget = 1 << 23

/// Training's head (`hidden` records gradients, the head is frozen): the gradient is made during the forward pass,
/// block of rows by block of rows over the whole vocabulary (Liger's fused linear cross-entropy), so each logit is
/// computed once instead of again in backward; backward scales the kept `dHidden` by the upstream gradient.
private func fusedLinearCrossEntropy(hidden: Tensor, head: ProjectionWeight, targets: [Int32], valid: Int) -> Tensor {
    let (n, h, vocab) = (hidden.shape[0], hidden.shape[1], head.shape[0])
    let blocks = Swift.max(1, (n * vocab + fusedLogitsBudget - 1) / fusedLogitsBudget)
    let rowsPerBlock = (n + blocks - 1) / blocks
    let logits = Tensor(uninitializedShape: [Swift.min(n, rowsPerBlock), vocab])
    let dh = Tensor.zeros(hidden.shape)
    let factor = valid == 0 ? 0 : 1 / Float(valid)
    var rowLoss = [Float](repeating: 0, count: n)
    let (ph, pl, pd) = (hidden.base, logits.base, dh.base)
    rowLoss.withUnsafeMutableBufferPointer { lp in
        targets.withUnsafeBufferPointer { tp in
            let (loss, t) = (lp.baseAddress!, tp.baseAddress!)
            for r0 in stride(from: 0, to: n, by: rowsPerBlock) {
                let rows = Swift.min(rowsPerBlock, n - r0)
                head.product(ph + r0 * h, rows: rows, from: 0, count: vocab, into: pl)
                parallelFor(rows) { range in
                    for r in range {
                        let row = pl + r * vocab, target = t[r0 + r]
                        if target == ignoreIndex { row.update(repeating: 0, count: vocab); continue }
                        let m = Kernels.rowMax(row, vocab), logit = row[Int(target)]
                        let sum = lk_exp_sum_inplace(row, vocab, m, 1)  // row = exp(row − m), one exp per logit
                        loss[r0 + r] = m + Foundation.log(sum) - logit
                        let c = factor / sum  // softmax · factor: d loss / d logits of a mean loss
                        Kernels.map(row, row, vocab) { $0 * c }
                        row[Int(target)] -= factor
                    }
                }
                head.addInputGradient(pl, rows: rows, from: 0, count: vocab, into: pd + r0 * h)
            }
        }
    }
    var total = 0.0
    for r in 0..<n where targets[r] != ignoreIndex { total += Double(rowLoss[r]) }
    let loss = Tensor(scalar: valid == 0 ? 0 : Float(total / Double(valid)))
    return Tensor.record("linearCrossEntropy", loss, inputs: [hidden]) { g in
        [g.scalar == 1 ? dh : dh.scaled(by: g.scalar)]
    }
}

/// Σ exp(row − shift).
@inlinable
func expSum(_ row: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float { lk_exp_sum(row, nil, n, shift, 1) }

/// row = exp(row − shift) · factor, in place.
@inlinable
func softmaxScaled(_ row: UnsafeMutablePointer<Float>, _ n: Int, shift: Float, factor: Float) {
    _ = lk_exp_sum_inplace(row, n, shift, factor)
}

/// Mean cross-entropy of `logits` against `targets` (rows labelled ``ignoreIndex`` are skipped).
/// - Parameters:
///   - logits: `[rows, classes]`.
///   - targets: `rows` labels.
/// - Returns: a scalar.
public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor {
    precondition(logits.rank == 2 && targets.count == logits.shape[0],
                 "crossEntropy expects logits [rows, classes] and one target per row; got \(logits.shape), \(targets.count)")
    let (n, v) = (logits.shape[0], logits.shape[1])
    for t in targets { precondition(t == ignoreIndex || (t >= 0 && Int(t) < v), "target \(t) outside 0..<\(v)") }
    let valid = targets.filter { $0 != ignoreIndex }.count
    var lse = [Float](repeating: 0, count: n)
    var total = 0.0
    let p = logits.base
    for r in 0..<n where targets[r] != ignoreIndex {
        let row = p + r * v
        let m = Kernels.rowMax(row, v)
        lse[r] = m + Foundation.log(expSum(row, v, shift: m))
        total += Double(lse[r] - row[Int(targets[r])])
    }
    let loss = Tensor(scalar: valid == 0 ? 0 : Float(total / Double(valid)))
    return Tensor.record("crossEntropy", loss, inputs: [logits]) { g in
        let factor = valid == 0 ? 0 : g.scalar / Float(valid)
        let d = logits.copied()
        for r in 0..<n {
            let row = d.base + r * v
            if targets[r] == ignoreIndex { row.update(repeating: 0, count: v); continue }
            softmaxScaled(row, v, shift: lse[r], factor: factor)
            row[Int(targets[r])] -= factor
        }
        return [d]
    }
}
