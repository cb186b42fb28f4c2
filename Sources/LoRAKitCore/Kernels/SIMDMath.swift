import CBLAS

/// SIMD building blocks for the hot loops: 16-lane loads/stores over raw pointers and vector `exp`, `tanh`,
/// `sigmoid`, `erf`.
public typealias Vec = SIMD16<Float>

public enum Kernels {
    /// Elements per SIMD vector.
    public static let width = 16
    /// Elementwise work below this many elements runs on one thread.
    public static let elementwiseGrain = 1 << 15

    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }

    @inlinable @inline(__always)
    public static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }

    /// Loads `n < 16` elements, zero-padded.
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> Vec {
        var v = Vec()
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    @inlinable @inline(__always)
    public static func storePartial(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    /// `exp(x)`, relative error ≲ 2e-7 over [-87, 88] (Cephes polynomial, 2ⁿ by exponent bits).
    ///
    /// Written with comparisons + `replacing` and the float-adder rounding trick: the stdlib's SIMD
    /// `pointwiseMin/Max`, `clamped` and `rounded` are lane-by-lane and ~20× slower here.
    @inlinable @inline(__always)
    public static func exp(_ x: Vec) -> Vec {
        let x = clamp(x, -87.3, 88.7)
        let magic = Vec(repeating: 12_582_912)  // 1.5·2²³: adding it rounds to the nearest integer
        let kb = x * 1.442_695_04 + magic
        let k = kb - magic
        let r = x - k * 0.693_359_375 - k * -2.121_944_4e-4
        var y = Vec(repeating: 1.987_569_15e-4)
        y = y * r + 1.398_199_950_7e-3
        y = y * r + 8.333_451_907_3e-3
        y = y * r + 4.166_579_589_4e-2
        y = y * r + 1.666_666_545_9e-1
        y = y * r + 5.000_000_120_1e-1
        y = y * r * r + r + 1
        let bits = unsafeBitCast(kb, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: Vec.self)
        return y * scale
    }

    /// Clamps every lane to `[lo, hi]` (fast path; see ``exp(_:)``).
    @inlinable @inline(__always)
    public static func clamp(_ x: Vec, _ lo: Float, _ hi: Float) -> Vec {
        var x = x
        x.replace(with: Vec(repeating: hi), where: x .> Vec(repeating: hi))
        x.replace(with: Vec(repeating: lo), where: x .< Vec(repeating: lo))
        return x
    }

    /// Lane-wise maximum (fast path; see ``exp(_:)``).
    @inlinable @inline(__always)
    public static func max(_ a: Vec, _ b: Vec) -> Vec { a.replacing(with: b, where: b .> a) }

    /// The logistic function 1 / (1 + e⁻ˣ).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Vec) -> Vec { 1 / (1 + exp(-x)) }

    /// `tanh(x)` as 1 − 2 / (e²ˣ + 1).
    @inlinable @inline(__always)
    public static func tanh(_ x: Vec) -> Vec { 1 - 2 / (exp(2 * x) + 1) }

    /// `erf(x)`, absolute error ≲ 1.5e-7 (Abramowitz & Stegun 7.1.26).
    @inlinable @inline(__always)
    public static func erf(_ x: Vec) -> Vec {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = Vec(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        let negative = x .< Vec()
        return y.replacing(with: -y, where: negative)
    }

    /// Horizontal sum in `Double`-free float arithmetic.
    @inlinable @inline(__always)
    public static func sum(_ v: Vec) -> Float { v.sum() }

    /// `dst[i] += src[i]`.
    @inlinable
    public static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        parallelFor(n, grain: elementwiseGrain) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                store(load(dst + i) + load(src + i), dst + i)
                i += 16
            }
            while i < r.upperBound { dst[i] += src[i]; i += 1 }
        }
    }

    /// Runs a C vector kernel over `0..<n` in contiguous pieces across the compute threads.
    @inlinable
    public static func chunked(_ n: Int, _ body: (_ start: Int, _ count: Int) -> Void) {
        parallelFor(n, grain: elementwiseGrain / 4) { r in body(r.lowerBound, r.count) }
    }

    /// Applies `op` to each element of `src`, writing `dst` (may alias).
    @inlinable
    public static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                           _ op: (Vec) -> Vec) {
        parallelFor(n, grain: elementwiseGrain) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                store(op(load(src + i)), dst + i)
                i += 16
            }
            if i < r.upperBound {
                let m = r.upperBound - i
                storePartial(op(loadPartial(src + i, m)), dst + i, m)
            }
        }
    }

    /// `dst[i] = op(a[i], b[i])`.
    @inlinable
    public static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                           _ n: Int, _ op: (Vec, Vec) -> Vec) {
        parallelFor(n, grain: elementwiseGrain) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                store(op(load(a + i), load(b + i)), dst + i)
                i += 16
            }
            if i < r.upperBound {
                let m = r.upperBound - i
                storePartial(op(loadPartial(a + i, m), loadPartial(b + i, m)), dst + i, m)
            }
        }
    }

    /// `dst[i] = op(a[i], b[i], c[i])`.
    @inlinable
    public static func zip3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                            _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ op: (Vec, Vec, Vec) -> Vec) {
        parallelFor(n, grain: elementwiseGrain) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                store(op(load(a + i), load(b + i), load(c + i)), dst + i)
                i += 16
            }
            if i < r.upperBound {
                let m = r.upperBound - i
                storePartial(op(loadPartial(a + i, m), loadPartial(b + i, m), loadPartial(c + i, m)), dst + i, m)
            }
        }
    }

    /// Dot product of two rows of length `n`.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec(), i = 0
        while i + 16 <= n { acc += load(a + i) * load(b + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Sum of a row of length `n`.
    @inlinable @inline(__always)
    public static func rowSum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec(), i = 0
        while i + 16 <= n { acc += load(a + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }

    /// Maximum of a row of length `n > 0`.
    @inlinable @inline(__always)
    public static func rowMax(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = Vec(repeating: -.infinity), i = 0
        while i + 16 <= n { acc = max(acc, load(a + i)); i += 16 }
        var s = acc.max()
        while i < n { s = Swift.max(s, a[i]); i += 1 }
        return s
    }

    /// `y[i] += alpha * x[i]`.
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = Vec(repeating: alpha)
        var i = 0
        while i + 16 <= n { store(load(y + i) + av * load(x + i), y + i); i += 16 }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }
}
