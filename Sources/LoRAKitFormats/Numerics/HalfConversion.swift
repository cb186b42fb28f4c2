/// IEEE half (binary16) and bfloat16 conversions in software, so they work on every platform
/// (Swift's `Float16` is unavailable on Intel macOS) and vectorise with SIMD integer ops.
public enum HalfConversion {
    /// Exact conversion of an IEEE binary16 bit pattern to `Float` (subnormals, infinities and NaNs included).
    @inlinable @inline(__always)
    public static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let magnitude = UInt32(bits & 0x7FFF)
        if magnitude >= 0x7C00 {  // infinity or NaN: keep the payload
            return Float(bitPattern: sign | 0x7F80_0000 | ((magnitude & 0x3FF) << 13))
        }
        // Normal and subnormal halves: re-bias the exponent by multiplying by 2^112 (exact).
        let value = Float(bitPattern: magnitude << 13) * 0x1p112
        return Float(bitPattern: value.bitPattern | sign)
    }

    /// Eight halves at once (same result as ``float(fromHalf:)`` lane by lane).
    @inlinable @inline(__always)
    public static func floats(fromHalves bits: SIMD8<UInt16>) -> SIMD8<Float> {
        let wide = SIMD8<UInt32>(truncatingIfNeeded: bits)
        let sign = (wide & 0x8000) &<< 16
        let magnitude = wide & 0x7FFF
        let scaled = unsafeBitCast(magnitude &<< 13, to: SIMD8<Float>.self) * 0x1p112
        var result = unsafeBitCast(scaled, to: SIMD8<UInt32>.self)
        let special = magnitude .>= 0x7C00
        result.replace(with: 0x7F80_0000 | ((magnitude & 0x3FF) &<< 13), where: special)
        return unsafeBitCast(result | sign, to: SIMD8<Float>.self)
    }

    /// `Float` to IEEE binary16 with round-to-nearest-even; overflow gives ±infinity, NaN stays NaN.
    @inlinable
    public static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {  // infinity or NaN (NaN stays quiet NaN)
            return sign | 0x7C00 | (magnitude > 0x7F80_0000 ? 0x200 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x3FF) : 0)
        }
        if magnitude >= 0x477F_F000 { return sign | 0x7C00 }  // ≥ 65520 rounds to infinity
        if magnitude < 0x3880_0000 {  // below 2^-14: subnormal half or zero; the FPU rounds for us
            let magic = Float(bitPattern: 0x3F00_0000)  // 0.5: its ulp is the half subnormal step 2^-24
            let shifted = Float(bitPattern: magnitude) + magic
            return sign | UInt16(truncatingIfNeeded: shifted.bitPattern &- 0x3F00_0000)
        }
        let mantissaOdd = (magnitude >> 13) & 1
        let rounded = magnitude &+ 0xC800_0FFF &+ mantissaOdd  // re-bias exponent (-112 << 23) and round
        return sign | UInt16(truncatingIfNeeded: rounded >> 13)
    }

    /// A bfloat16 bit pattern to `Float` (exact).
    @inlinable @inline(__always)
    public static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// `Float` to bfloat16 with round-to-nearest-even; NaN becomes a quiet NaN (as PyTorch and ggml do).
    @inlinable
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }
}
