import Testing
@testable import LoRAKitFormats

@Suite struct HalfConversionTests {
    #if !(os(macOS) && arch(x86_64))
    @Test func halfToFloatIsExactForAllPatterns() {
        var wrong = [UInt16]()
        for bits in UInt16.min ... UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = HalfConversion.float(fromHalf: bits)
            if expected.isNaN ? !got.isNaN : got.bitPattern != expected.bitPattern { wrong.append(bits) }
        }
        #expect(wrong.isEmpty, "first wrong half patterns: \(wrong.prefix(5))")
    }

    @Test func simdMatchesScalar() {
        var lanes = SIMD8<UInt16>()
        var wrong = 0
        for start in stride(from: 0, to: 65536, by: 8) {
            for i in 0 ..< 8 { lanes[i] = UInt16(start + i) }
            let v = HalfConversion.floats(fromHalves: lanes)
            for i in 0 ..< 8 {
                let s = HalfConversion.float(fromHalf: lanes[i])
                if !(v[i].bitPattern == s.bitPattern || (v[i].isNaN && s.isNaN)) { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test func floatToHalfRoundsLikeFloat16() {
        var rng = SystemRandomNumberGenerator()
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 65536, 1e-8, 2.98e-8, 2.99e-8, 5.96e-8, 6.1e-5,
                               6.097e-5, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                               Float(bitPattern: 0x3380_0000), Float(bitPattern: 0x3380_0001)]
        for _ in 0 ..< 200_000 { values.append(Float(bitPattern: UInt32.random(in: 0 ... .max, using: &rng))) }
        // Exact halfway cases between neighbouring halves.
        for bits in stride(from: UInt16(0), to: 0x7C00, by: 37) {
            let a = Float(Float16(bitPattern: bits)), b = Float(Float16(bitPattern: bits + 1))
            values.append((a + b) / 2)
        }
        var wrong = [Float]()
        for v in values {
            let got = HalfConversion.half(from: v)
            if v.isNaN ? !Float16(bitPattern: got).isNaN : got != Float16(v).bitPattern { wrong.append(v) }
        }
        #expect(wrong.isEmpty, "first wrong values: \(wrong.prefix(5))")
    }
    #endif

    @Test func bfloat16RoundTripAndRounding() {
        #expect(HalfConversion.bfloat16(from: 1) == 0x3F80)
        #expect(HalfConversion.float(fromBFloat16: 0x3F80) == 1)
        #expect(HalfConversion.bfloat16(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie to even
        #expect(HalfConversion.bfloat16(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie to even (up)
        #expect(HalfConversion.bfloat16(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfConversion.bfloat16(from: .greatestFiniteMagnitude) == 0x7F80)       // overflow → inf
        #expect(HalfConversion.float(fromBFloat16: HalfConversion.bfloat16(from: .nan)).isNaN)
        for bits in stride(from: UInt16(0), to: 0x7F80, by: 7) {
            #expect(HalfConversion.bfloat16(from: HalfConversion.float(fromBFloat16: bits)) == bits)
        }
    }
}
