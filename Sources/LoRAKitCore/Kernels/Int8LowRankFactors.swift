/// LoRA factors quantized to int8 for serving (``SegmentedLoRA/Precision/int8``): symmetric, round to nearest, one
/// scale per row of `A` and one per column of `B` (each the largest magnitude over 127).
///
/// Both scales sit on the rank index, so `B · A = B₈ · diag(sB ⊙ sA) · A₈`: the kernels multiply each `x · A₈ᵀ` by
/// ``rankScale`` (`sA ⊙ sB`) and expand with `B₈` as stored — a quarter of fp32's bytes, nothing extra per output.
/// Non-finite inputs do not trap: NaN stores 0, ±∞ the largest code (0 where its row or column has
/// no finite nonzero value to scale by). Immutable; the buffers live as long as it does.
final class Int8LowRankFactors: @unchecked Sendable {
    let rank: Int
    let inFeatures: Int
    let outFeatures: Int
    /// A₈ `[rank, in]`, B₈ `[out, rank]`, and B₈ᵀ in the expand's panels (``SegmentedLoRA/Weights/panels(_:)``).
    let a: UnsafeMutablePointer<Int8>
    let b: UnsafeMutablePointer<Int8>
    let bT: UnsafeMutablePointer<Int8>
    /// `sA[j]` for row j of A, `sB[j]` for column j of B.
    let aScale: [Float]
    let bScale: [Float]
    /// `sA[j] · sB[j]`: what `x · A₈ᵀ` is multiplied by.
    let rankScale: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - a: `[rank, in]`.
    ///   - b: `[out, rank]`.
    init(a: Tensor, b: Tensor) {
        (rank, inFeatures, outFeatures) = (a.shape[0], a.shape[1], b.shape[0])
        let (r, inF, outF) = (rank, inFeatures, outFeatures)
        let (af, bf) = (a.scalars, b.scalars)
        aScale = (0..<r).map { j in Self.scale(of: (0..<inF).lazy.map { af[j * inF + $0] }) }
        bScale = (0..<r).map { j in Self.scale(of: (0..<outF).lazy.map { bf[$0 * r + j] }) }
        self.a = .allocate(capacity: max(1, r * inF))
        self.b = .allocate(capacity: max(1, outF * r))
        let panelCount = SegmentedLoRA.Weights.panelCount(out: outF, rank: r)
        bT = .allocate(capacity: max(1, panelCount))
        bT.initialize(repeating: 0, count: max(1, panelCount))
        rankScale = .allocate(capacity: max(1, r))
        for j in 0..<r {
            rankScale[j] = aScale[j] * bScale[j]
            for q in 0..<inF { self.a[j * inF + q] = Self.code(af[j * inF + q], scale: aScale[j]) }
            for n in 0..<outF {
                let value = Self.code(bf[n * r + j], scale: bScale[j])
                self.b[n * r + j] = value
                bT[SegmentedLoRA.Weights.panelOffset(row: n, column: j, rank: r)] = value
            }
        }
    }

    deinit {
        a.deallocate()
        b.deallocate()
        bT.deallocate()
        rankScale.deallocate()
    }

    /// The largest finite magnitude over 127 (0 when there is none: every code is then 0).
    static func scale(of values: some Sequence<Float>) -> Float {
        values.reduce(Float(0)) { $1.isFinite ? Swift.max($0, abs($1)) : $0 } / 127
    }

    /// `value / scale` rounded to nearest (ties away from zero) and clamped to ±127.
    static func code(_ value: Float, scale: Float) -> Int8 {
        guard scale > 0, !value.isNaN else { return 0 }
        return Int8(Swift.min(127, Swift.max(-127, (value / scale).rounded())))
    }

    /// `(sA ⊙ A₈, B₈ ⊙ sB)` in `Float`: the factors the kernels multiply.
    func dequantized() -> (a: Tensor, b: Tensor) {
        let (r, inF, outF) = (rank, inFeatures, outFeatures)
        let aValues = (0..<(r * inF)).map { aScale[$0 / inF] * Float(a[$0]) }
        let bValues = (0..<(outF * r)).map { bScale[$0 % r] * Float(b[$0]) }
        return (Tensor(aValues, shape: [r, inF]), Tensor(bValues, shape: [outF, r]))
    }
}
