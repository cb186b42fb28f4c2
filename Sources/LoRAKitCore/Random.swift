import Foundation

/// SplitMix64: a tiny, fast, portable 64-bit generator. The same seed gives the same numbers on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a stateless hash of `z` (counter-based randomness, e.g. dropout masks).
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Float` in [0, 1) with 24 random bits (exact, platform independent).
    @inlinable
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform `Double` in (0, 1) with 53 random bits.
    @inlinable
    public mutating func nextOpenUnitDouble() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }
}

extension Tensor {
    /// Uniform values in `[low, high)` from ``SplitMix64`` seeded with `seed` (bit-identical on every platform).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        var rng = SplitMix64(seed: seed)
        let p = t.base
        for i in 0..<t.count { p[i] = low + (high - low) * rng.nextUnitFloat() }
        return t
    }

    /// Normal values with the given mean and standard deviation (Box–Muller in `Double`, rounded to `Float`).
    ///
    /// The uniform draws are bit-identical everywhere; `log`/`cos` run in `Double`, so platforms whose libm
    /// differs in the last `Double` bit still round to the same `Float` in all but vanishingly rare cases.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, seed: UInt64) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        var rng = SplitMix64(seed: seed)
        let p = t.base
        var i = 0
        while i < t.count {
            let u1 = rng.nextOpenUnitDouble(), u2 = rng.nextOpenUnitDouble()
            let r = (-2 * Foundation.log(u1)).squareRoot()
            let a = 2 * Double.pi * u2
            p[i] = mean + std * Float(r * Foundation.cos(a))
            if i + 1 < t.count { p[i + 1] = mean + std * Float(r * Foundation.sin(a)) }
            i += 2
        }
        return t
    }

    /// PyTorch's default `nn.Linear` weight init, `kaiming_uniform_(a: √5)`: uniform in ±1/√fanIn.
    /// - Parameter shape: `[out, in]`; `fanIn` is the last dimension.
    public static func kaimingUniform(_ shape: [Int], seed: UInt64) -> Tensor {
        let fanIn = max(shape.last ?? 1, 1)
        let bound = 1 / Float(fanIn).squareRoot()
        return randomUniform(shape, low: -bound, high: bound, seed: seed)
    }
}
