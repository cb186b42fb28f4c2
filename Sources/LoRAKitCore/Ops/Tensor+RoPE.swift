import Foundation

/// Rotary position embedding in Hugging Face's rotate-half layout, fused forward and backward.
///
/// For each head vector `x = [x₁, x₂]` (halves of `headDim`) and frequency `i`:
/// `out₁ = x₁·cos − x₂·sin`, `out₂ = x₂·cos + x₁·sin`, angle `position · theta^(−2i/headDim)` (in `Float`, as
/// transformers computes it).
/// - Parameters:
///   - x: `[batch, sequence, heads, headDim]` (`headDim` even).
///   - positions: `sequence` positions shared by the batch, or `batch · sequence` positions.
///   - theta: the RoPE base (SmolLM2: 100000; Llama 2: 10000).
public func rope(_ x: Tensor, positions: [Int32], theta: Float) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] % 2 == 0, "rope expects [batch, sequence, heads, headDim], got \(x.shape)")
    let (b, t, h, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(positions.count == t || positions.count == b * t,
                 "rope needs \(t) or \(b * t) positions, got \(positions.count)")
    let half = d / 2
    let table = RoPETable(positions: positions, half: half, theta: theta)
    let out = Tensor(uninitializedShape: x.shape)
    RoPETable.apply(table, x.base, out.base, b: b, t: t, h: h, d: d, sign: 1, perBatch: positions.count == b * t)
    let shape = x.shape  // the backward needs no values of x: capturing only its shape lets x be freed
    return Tensor.record("rope", out, inputs: [x]) { g in
        let dx = Tensor(uninitializedShape: shape)
        RoPETable.apply(table, g.base, dx.base, b: b, t: t, h: h, d: d, sign: -1, perBatch: positions.count == b * t)
        return [dx]
    }
}

/// cos/sin per (position, frequency).
final class RoPETable {
    let cos: [Float], sin: [Float]
    let half: Int

    init(positions: [Int32], half: Int, theta: Float) {
        self.half = half
        let invFreq = (0..<half).map { 1 / Foundation.pow(theta, Float(2 * $0) / Float(2 * half)) }
        var c = [Float](repeating: 0, count: positions.count * half), s = c
        for (p, pos) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(pos) * invFreq[i]
                c[p * half + i] = Foundation.cos(angle)
                s[p * half + i] = Foundation.sin(angle)
            }
        }
        cos = c
        sin = s
    }

    /// Rotates by +angle (`sign` 1) or −angle (`sign` −1, the backward pass).
    static func apply(_ table: RoPETable, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                      b: Int, t: Int, h: Int, d: Int, sign: Float, perBatch: Bool) {
        let half = d / 2
        table.cos.withUnsafeBufferPointer { cp in
            table.sin.withUnsafeBufferPointer { sp in
                let (cb, sb) = (cp.baseAddress!, sp.baseAddress!)
                parallelFor(b * t, grain: Swift.max(1, 8192 / Swift.max(h * d, 1))) { range in
                    for bt in range {
                        let p = perBatch ? bt : bt % t
                        let c = cb + p * half, s = sb + p * half
                        for head in 0..<h {
                            let x = src + (bt * h + head) * d, y = dst + (bt * h + head) * d
                            var i = 0
                            while i + 16 <= half {
                                let x1 = Kernels.load(x + i), x2 = Kernels.load(x + half + i)
                                let cv = Kernels.load(c + i), sv = Kernels.load(s + i) * sign
                                Kernels.store(x1 * cv - x2 * sv, y + i)
                                Kernels.store(x2 * cv + x1 * sv, y + half + i)
                                i += 16
                            }
                            while i < half {
                                let x1 = x[i], x2 = x[half + i], sv = s[i] * sign
                                y[i] = x1 * c[i] - x2 * sv
                                y[half + i] = x2 * c[i] + x1 * sv
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
