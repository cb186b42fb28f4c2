import Foundation
import LoRAKitCore
import LoRAKitModels

/// DoRA (Liu et al., 2024): the adapted weight `W + s·BA` is split into a direction and a learned magnitude `m`
/// (`[out]`, one per output row): `W' = m ⊙ (W + s·BA) / ‖W + s·BA‖`, with the row norm treated as a constant in
/// backward, exactly as PEFT does. The output is computed without forming `W'`:
/// `y = Wx + (m/‖·‖ − 1) ⊙ Wx + (m/‖·‖) ⊙ s·B A dropout(x)`.
///
/// ### See Also
/// - [DoRA: Weight-Decomposed Low-Rank Adaptation](https://arxiv.org/abs/2402.09353)
public final class DoRA: AdapterVariant, @unchecked Sendable {
    public static let kind = AdapterKind.dora
    static let keyMagnitude = "lora_magnitude_vector"

    public let target: AdapterTarget
    public var weight: Float = 1
    public let dropout: Float
    public var dropoutSeed: UInt64 = 0
    var factors: LowRankFactors
    /// `m`, `[out]`.
    var magnitude: Tensor
    private let shapes: [String: [Int]]
    /// `m / ‖W + s·BA‖` at merge time, kept to undo the merge.
    private var mergeFactor: Tensor?

    public init(target: AdapterTarget, base: Linear, configuration: AdapterConfiguration, seed: UInt64) throws {
        self.target = target
        self.dropout = Float(configuration.dropout)
        let initial = try LowRankFactors(rank: target.rank, base: base, initialization: configuration.initialization,
                                         scaling: Float(target.scaling), seed: seed)
        factors = initial
        var shapes = factors.expectedShapes(rank: target.rank, base: base)
        shapes[Self.keyMagnitude] = [base.outFeatures]
        self.shapes = shapes
        // PEFT initialises m to the row norms of the adapted weight, so a fresh DoRA starts as W.
        magnitude = Self.rowNorms(base.weight + initial.product().scaled(by: Float(target.scaling)))
    }

    public var parameters: [String: Tensor] {
        get {
            var p = factors.parameters
            p[Self.keyMagnitude] = magnitude
            return p
        }
        set {
            // invariant: callers validate with AdapterParameters.check before assigning (PEFTAdapterFile does).
            precondition((try? AdapterParameters.check(newValue, expected: shapes, module: target.module)) != nil,
                         "DoRA parameters for \(target.module) have the wrong keys or shapes")
            factors = LowRankFactors(a: newValue[LowRankFactors.keyA]!, b: newValue[LowRankFactors.keyB]!)
            magnitude = newValue[Self.keyMagnitude]!
        }
    }

    public func forward(_ x: Tensor, baseOutput: Tensor, base: Linear) -> Tensor {
        guard weight != 0 else { return baseOutput }
        let scale = Float(target.scaling)
        // ‖W + s·BA‖ per output row, without gradient (PEFT detaches it).
        let norms = withNoGrad { Self.rowNorms(base.weight + factors.product().detached().scaled(by: scale)) }
        let inverse = norms.mapScalars { 1 / $0 }
        let magnitudeScale = magnitude * inverse                            // [out], gradient to m
        let training = dropout > 0 && GradMode.isEnabled
        let input = training ? LoRAKitCore.dropout(x, probability: dropout, seed: dropoutSeed) : x
        // With dropout PEFT recomputes the base product on the dropped input.
        var plain = training ? base.baseOutput(input) : baseOutput
        if let bias = base.bias { plain = plain - bias }
        let loraOutput = factors.delta(input, scale: scale)
        let delta = plain * magnitudeScale.adding(scalar: -1) + loraOutput * magnitudeScale
        return baseOutput + (weight == 1 ? delta : delta.scaled(by: weight))
    }

    public func merged(into baseWeight: Tensor) -> Tensor {
        let delta = factors.product().scaled(by: Float(target.scaling))
        let adapted = baseWeight + delta
        let factor = magnitude * Self.rowNorms(adapted).mapScalars { 1 / $0 }
        mergeFactor = factor
        return Self.scaleRows(adapted, by: factor)
    }

    public func unmerged(from mergedWeight: Tensor) -> Tensor {
        let factor = mergeFactor ?? magnitude * Self.rowNorms(mergedWeight).mapScalars { 1 / $0 }
        let delta = factors.product().scaled(by: Float(target.scaling))
        return Self.scaleRows(mergedWeight, by: factor.mapScalars { 1 / $0 }) - delta
    }

    /// The Euclidean norm of each row of `w` (`[out, in]` → `[out]`), accumulated in Double.
    static func rowNorms(_ w: Tensor) -> Tensor {
        let (rows, cols) = (w.shape[0], w.shape[1])
        var out = Tensor.zeros([rows])
        w.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    var sum = 0.0
                    for c in 0..<cols { let v = Double(src[r * cols + c]); sum += v * v }
                    dst[r] = Float(sum.squareRoot())
                }
            }
        }
        return out
    }

    /// `w` with row `i` multiplied by `factor[i]` (no gradient).
    static func scaleRows(_ w: Tensor, by factor: Tensor) -> Tensor {
        var out = w.detached().copied()
        let cols = w.shape[1]
        factor.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<f.count { for c in 0..<cols { dst[r * cols + c] *= f[r] } }
            }
        }
        return out
    }
}

extension Tensor {
    /// A copy with `transform` applied to every element, without gradient (constants derived from values).
    func mapScalars(_ transform: (Float) -> Float) -> Tensor {
        var out = detached().copied()
        out.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = transform(buffer[i]) }
        }
        return out
    }
}
