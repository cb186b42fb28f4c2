/// Seeded inverted dropout: each element is zeroed with probability `probability` and the rest scaled by
/// `1 / (1 − probability)`. The mask is a counter-based hash of (`seed`, element index), so the same seed gives
/// the same mask on every platform and thread count, and backward regenerates it instead of storing it.
/// Call it only in training; `probability == 0` returns `x` unchanged.
public func dropout(_ x: Tensor, probability: Float, seed: UInt64) -> Tensor {
    precondition(probability >= 0 && probability < 1, "dropout probability \(probability) not in [0, 1)")
    if probability == 0 { return x }
    let keepScale = 1 / (1 - probability)
    let threshold = UInt64(Double(probability) * 16_777_216)  // compare 24 random bits
    func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: Kernels.elementwiseGrain) { range in
            for i in range {
                let r = SplitMix64.mix(seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 40
                dst[i] = r < threshold ? 0 : src[i] * keepScale
            }
        }
    }
    let out = Tensor(uninitializedShape: x.shape)
    apply(x.base, out.base, x.count)
    return Tensor.record("dropout", out, inputs: [x]) { g in
        let d = Tensor(uninitializedShape: g.shape)
        apply(g.base, d.base, g.count)
        return [d]
    }
}
