import Numerics
import Testing
@testable import LoRAKitCore

/// Central finite-difference gradient check in `Double`.
///
/// The op's output `y = f(inputs)` is reduced to `L = Σ y ⊙ R` with a fixed random `R`, so every output element's
/// gradient matters. Analytic gradients come from `backward()`; numeric ones from `(L(x+ε) − L(x−ε)) / 2ε` with
/// `L` summed in `Double`. A gradient element passes when `|analytic − numeric| ≤ atol + rtol·|numeric|`.
/// - Parameters:
///   - check: which inputs to check (others stay frozen); default all.
///   - maxElements: elements checked per input (evenly spread), to keep big inputs cheap.
func gradCheck(_ inputs: [Tensor], check: [Int]? = nil, eps: Float = 1e-2, atol: Double = 2e-3,
               rtol: Double = 1e-2, maxElements: Int = 48, sourceLocation: SourceLocation = #_sourceLocation,
               _ f: ([Tensor]) -> Tensor) {
    let which = check ?? Array(inputs.indices)
    let leaves = inputs.enumerated().map { i, t in which.contains(i) ? t.requiringGrad(name: "in\(i)") : t }
    let out = f(leaves)
    #expect(out.requiresGrad, "op did not record autograd history", sourceLocation: sourceLocation)
    let r = Tensor.randomNormal(out.shape, seed: 99)
    (out * r).sum().backward()
    func loss(_ xs: [Tensor]) -> Double {
        withNoGrad {
            let y = f(xs).scalars, rs = r.scalars
            var s = 0.0
            for i in y.indices { s += Double(y[i]) * Double(rs[i]) }
            return s
        }
    }
    var worst = 0.0
    for i in which {
        let analytic = leaves[i].grad
        #expect(analytic != nil, "input \(i) got no gradient", sourceLocation: sourceLocation)
        guard let analytic else { continue }
        #expect(analytic.shape == inputs[i].shape, sourceLocation: sourceLocation)
        let a = analytic.scalars
        let n = inputs[i].count
        let step = max(1, n / maxElements)
        var failures = 0
        for j in stride(from: 0, to: n, by: step) {
            var plus = inputs, minus = inputs
            plus[i].withUnsafeMutableBufferPointer { $0[j] += eps }
            minus[i].withUnsafeMutableBufferPointer { $0[j] -= eps }
            let numeric = (loss(plus) - loss(minus)) / (2 * Double(eps))
            let err = abs(Double(a[j]) - numeric)
            worst = max(worst, err / (atol + rtol * abs(numeric)))
            if err > atol + rtol * abs(numeric) {
                failures += 1
                if failures <= 3 {
                    Issue.record("input \(i) element \(j): analytic \(a[j]) vs numeric \(numeric)",
                                 sourceLocation: sourceLocation)
                }
            }
        }
        #expect(failures == 0, "input \(i): \(failures) gradient elements out of tolerance",
                sourceLocation: sourceLocation)
    }
}

/// Element-wise closeness of two tensors: `|a − b| ≤ atol + rtol·|b|`.
func expectClose(_ a: Tensor, _ b: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    let (x, y) = (a.scalars, b.scalars)
    var bad = 0
    for i in x.indices where !x[i].isApproximatelyEqual(to: y[i], absoluteTolerance: atol + rtol * abs(y[i]),
                                                        relativeTolerance: 0) {
        bad += 1
        if bad <= 3 { Issue.record("element \(i): \(x[i]) vs \(y[i])", sourceLocation: sourceLocation) }
    }
    #expect(bad == 0, "\(bad) of \(x.count) elements differ", sourceLocation: sourceLocation)
}

func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor { Tensor.randomNormal(shape, std: std, seed: seed) }
