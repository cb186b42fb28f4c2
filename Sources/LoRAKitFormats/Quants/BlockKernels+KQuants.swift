// k-quant kernels: 256-element super-blocks made of 8 sub-blocks of 32 (Q4_K, Q5_K) or 16 of 16 (Q6_K).

/// Scale and min of sub-block `j` (0..<8) from the 12 packed 6-bit bytes of Q4_K / Q5_K
/// (ggml's `get_scale_min_k4`).
@inline(__always) func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: Float, min: Float) {
    let byte = { (i: Int) -> UInt8 in s.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 {
        return (Float(byte(j) & 63), Float(byte(j + 4) & 63))
    }
    let scale = (byte(j + 4) & 0x0F) | ((byte(j - 4) >> 6) << 4)
    let min = (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4)
    return (Float(scale), Float(min))
}

extension BlockKernels {
    /// `block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }`: for chunk g (0..<4) the 32 bytes
    /// qs[32g..] hold sub-block 2g in low nibbles and 2g+1 in high nibbles; x = d·sc·q − dmin·m.
    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 144
            let out = dst + b * 256
            let d = loadHalf(p, 0)
            let dmin = loadHalf(p, 2)
            let scales = p + 4
            let qs = p + 16
            for g in 0 ..< 4 {
                let (sc0, m0) = scaleMinK4(2 * g, scales)
                let (sc1, m1) = scaleMinK4(2 * g + 1, scales)
                let d0 = d * sc0, b0 = SIMD16<Float>(repeating: -dmin * m0)
                let d1 = d * sc1, b1 = SIMD16<Float>(repeating: -dmin * m1)
                for h in 0 ..< 2 {
                    let q = loadBytes16(qs, 32 * g + 16 * h)
                    store16(floats(q & 0x0F) * d0 + b0, out, 64 * g + 16 * h)
                    store16(floats(q &>> 4) * d1 + b1, out, 64 * g + 32 + 16 * h)
                }
            }
        }
    }

    /// `block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }`: low nibbles as in
    /// Q4_K; bit j of qh[l] is the fifth bit of element l of sub-block j.
    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 176
            let out = dst + b * 256
            let d = loadHalf(p, 0)
            let dmin = loadHalf(p, 2)
            let scales = p + 4
            let qh = p + 16
            let qs = p + 48
            for g in 0 ..< 4 {
                let (sc0, m0) = scaleMinK4(2 * g, scales)
                let (sc1, m1) = scaleMinK4(2 * g + 1, scales)
                let d0 = d * sc0, b0 = SIMD16<Float>(repeating: -dmin * m0)
                let d1 = d * sc1, b1 = SIMD16<Float>(repeating: -dmin * m1)
                let shift0 = UInt8(2 * g), shift1 = UInt8(2 * g + 1)
                for h in 0 ..< 2 {
                    let q = loadBytes16(qs, 32 * g + 16 * h)
                    let high = loadBytes16(qh, 16 * h)
                    let hi0 = ((high &>> shift0) & 1) &<< 4
                    let hi1 = ((high &>> shift1) & 1) &<< 4
                    store16(floats((q & 0x0F) | hi0) * d0 + b0, out, 64 * g + 16 * h)
                    store16(floats((q &>> 4) | hi1) * d1 + b1, out, 64 * g + 32 + 16 * h)
                }
            }
        }
    }

    /// `block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }`: in half h (128 elements), part s
    /// (0..<4, 32 elements each) takes the low (s < 2) or high (s ≥ 2) nibble of ql[64h + 32·(s % 2) + l] and
    /// bits 2s, 2s+1 of qh[32h + l]; x = d · scales[e / 16] · (q − 32).
    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 210
            let out = dst + b * 256
            let ql = p
            let qh = p + 128
            let scales = p + 192
            let d = loadHalf(p, 208)
            for h in 0 ..< 2 {
                for s in 0 ..< 4 {
                    let nibbleShift = UInt8(4 * (s / 2))
                    let highShift = UInt8(2 * s)
                    for l in 0 ..< 2 {
                        let e = 128 * h + 32 * s + 16 * l
                        let low = (loadBytes16(ql, 64 * h + 32 * (s % 2) + 16 * l) &>> nibbleShift) & 0x0F
                        let high = ((loadBytes16(qh, 32 * h + 16 * l) &>> highShift) & 3) &<< 4
                        let q = SIMD16<Int32>(truncatingIfNeeded: low | high) &- 32
                        let scale = Float(scales.load(fromByteOffset: e / 16, as: Int8.self)) * d
                        store16(SIMD16<Float>(q) * scale, out, e)
                    }
                }
            }
        }
    }
}
