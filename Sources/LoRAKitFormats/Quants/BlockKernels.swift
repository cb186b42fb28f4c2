// Block dequantization kernels: one function per ggml type, each converting `blocks` consecutive blocks from
// `src` into `dst` (blockSize × blocks Floats). Layouts follow ggml's `block_*` structs (ggml-common.h) and
// gguf-py's `quants.py`; all multi-byte fields are little-endian. No bounds checks here: callers validate sizes.

@inline(__always) func loadBytes16(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt8> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
}

@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    HalfConversion.float(fromHalf: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

@inline(__always) func floats(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: v))
}

/// `Float(q − offset)` lane by lane (subtracting before converting keeps results bit-identical to ggml).
@inline(__always) func centered(_ v: SIMD16<UInt8>, _ offset: Int32) -> SIMD16<Float> {
    SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: v) &- offset)
}

@inline(__always) func store16(_ v: SIMD16<Float>, _ dst: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(dst + offset).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Expands bits `shift ..< shift+16` of `bits` into 16 lanes of 0 or 16 (the fifth bit of Q5 quants).
@inline(__always) func highBits16(_ bits: UInt32, _ shift: UInt32) -> SIMD16<UInt8> {
    let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) &+ shift
    let set = (SIMD16<UInt32>(repeating: bits) &>> lanes) & 1
    return SIMD16<UInt8>(truncatingIfNeeded: set &<< 4)
}

enum BlockKernels {
    // MARK: Plain types

    static func f32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        #else
        for i in 0 ..< count {
            dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
        #endif
    }

    static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let bits = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: HalfConversion.floats(fromHalves: bits), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = loadHalf(src, 2 * i)
            i += 1
        }
    }

    static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let bits = SIMD8<UInt32>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(bits &<< 16, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            dst[i] = HalfConversion.float(fromBFloat16: bits)
            i += 1
        }
    }

    // MARK: 32-element blocks

    /// `block_q8_0 { half d; int8 qs[32]; }`: x = d · q.
    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 34
            let out = dst + b * 32
            let d = loadHalf(p, 0)
            let lo = SIMD16<Int8>(truncatingIfNeeded: loadBytes16(p, 2))
            let hi = SIMD16<Int8>(truncatingIfNeeded: loadBytes16(p, 18))
            store16(SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: lo)) * d, out, 0)
            store16(SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: hi)) * d, out, 16)
        }
    }

    /// `block_q4_0 { half d; uint8 qs[16]; }`: element j = low nibble of qs[j], j+16 = high nibble; x = d·(q−8).
    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 18
            let out = dst + b * 32
            let d = loadHalf(p, 0)
            let q = loadBytes16(p, 2)
            store16(centered(q & 0x0F, 8) * d, out, 0)
            store16(centered(q &>> 4, 8) * d, out, 16)
        }
    }

    /// `block_q4_1 { half d; half m; uint8 qs[16]; }`: x = d·q + m.
    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 20
            let out = dst + b * 32
            let d = loadHalf(p, 0)
            let m = SIMD16<Float>(repeating: loadHalf(p, 2))
            let q = loadBytes16(p, 4)
            store16(floats(q & 0x0F) * d + m, out, 0)
            store16(floats(q &>> 4) * d + m, out, 16)
        }
    }

    /// `block_q5_0 { half d; uint32 qh; uint8 qs[16]; }`: bit j of qh is the fifth bit of element j; x = d·(q−16).
    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 22
            let out = dst + b * 32
            let d = loadHalf(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let q = loadBytes16(p, 6)
            store16(centered((q & 0x0F) | highBits16(qh, 0), 16) * d, out, 0)
            store16(centered((q &>> 4) | highBits16(qh, 16), 16) * d, out, 16)
        }
    }

    /// `block_q5_1 { half d; half m; uint32 qh; uint8 qs[16]; }`: x = d·q + m.
    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 24
            let out = dst + b * 32
            let d = loadHalf(p, 0)
            let m = SIMD16<Float>(repeating: loadHalf(p, 2))
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let q = loadBytes16(p, 8)
            store16(floats((q & 0x0F) | highBits16(qh, 0)) * d + m, out, 0)
            store16(floats((q &>> 4) | highBits16(qh, 16)) * d + m, out, 16)
        }
    }
}
