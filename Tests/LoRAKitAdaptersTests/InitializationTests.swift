import Foundation
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels
import Testing
@testable import LoRAKitAdapters

/// PiSSA and OLoRA (PEFT's `init_lora_weights="pissa" | "pissa_niter_N" | "olora"`): the decompositions, the
/// residual base weight, a no-op model at init, and PEFT's own numbers
/// (Tests/Fixtures/adapters/init, scripts/fixtures/make_init_fixtures.py).
@Suite struct InitializationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/adapters/init/peft_init.safetensors")

    static let decomposing: [AdapterConfiguration.Initialization] = [.pissa(iterations: nil), .pissa(iterations: 4), .olora]

    static func maxAbs(_ a: Tensor, _ b: Tensor) -> Float { AdapterFileTests.maxAbs(a.scalars, b.scalars) }

    /// `A [r, in]`, `B [out, r]` and the residual for one Linear.
    static func initialise(_ weight: Tensor, rank: Int = 3, alpha: Double = 6, _ initialization: AdapterConfiguration.Initialization,
                           dora: Bool = false) throws -> (lora: LowRankFactors, residual: Tensor, scaling: Float, variant: any AdapterVariant, base: Linear) {
        let base = Linear(name: "proj", weight: weight)
        let configuration = AdapterConfiguration(rank: rank, alpha: alpha, targets: .names(["proj"]), useDoRA: dora,
                                                 initialization: initialization)
        let target = try #require(configuration.selectTargets(in: ["proj"], outputHead: nil).first)
        let variant: any AdapterVariant = dora
            ? try DoRA(target: target, base: base, configuration: configuration, seed: 5)
            : try LoRA(target: target, base: base, configuration: configuration, seed: 5)
        let factors = dora ? (variant as? DoRA)?.factors : (variant as? LoRA)?.factors
        return (try #require(factors), base.weight, Float(target.scaling), variant, base)
    }

    @Test func svdAndQRReconstruct() throws {
        for shape in [[7, 5], [5, 7]] {
            let w = Tensor.randomNormal(shape, seed: 3)
            let (u, s, vt) = try w.svd()
            let k = min(shape[0], shape[1])
            #expect(u.shape == [shape[0], k] && s.shape == [k] && vt.shape == [k, shape[1]])
            #expect(zip(s.scalars, s.scalars.dropFirst()).allSatisfy { $0 >= $1 })
            var us = u.scalars
            for i in 0..<shape[0] { for j in 0..<k { us[i * k + j] *= s.scalars[j] } }
            #expect(Self.maxAbs(matmul(Tensor(us, shape: u.shape), vt), w) < 1e-5)
            let (q, r) = try w.qr()
            #expect(Self.maxAbs(matmul(q, r), w) < 1e-5)
            #expect(Self.maxAbs(matmul(q.transposed(), q), Self.identity(k)) < 1e-5)
            for i in 0..<k { for j in 0..<i { #expect(r.scalars[i * shape[1] + j] == 0) } }
        }
        #expect(throws: DecompositionError.self) { try Tensor.randomNormal([2, 3, 4], seed: 1).svd() }
    }

    static func identity(_ n: Int) -> Tensor {
        var v = [Float](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        return Tensor(v, shape: [n, n])
    }

    /// The rank-r truncated SVD of `w`.
    static func truncated(_ w: Tensor, rank r: Int) throws -> Tensor {
        let (u, s, vt) = try w.svd()
        let (m, n, k) = (w.shape[0], w.shape[1], s.count)
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var sum = 0.0
            for t in 0..<r { sum += Double(u.scalars[i * k + t]) * Double(s.scalars[t]) * Double(vt.scalars[t * n + j]) }
            out[i * n + j] = Float(sum)
        } }
        return Tensor(out, shape: [m, n])
    }

    @Test(arguments: [[12, 10], [10, 12], [24, 16]])
    func pissaIsTheTruncatedSVDAndResidualReconstructs(_ shape: [Int]) throws {
        let w = Tensor.randomNormal(shape, std: 0.3, seed: 11)
        let (f, residual, s, _, _) = try Self.initialise(w, .pissa(iterations: nil))
        let ba = f.product().scaled(by: s)
        #expect(Self.maxAbs(residual + ba, w) < 1e-5)
        #expect(Self.maxAbs(ba, try Self.truncated(w, rank: 3)) < 1e-5)
        #expect(f.a.scalars.contains { $0 != 0 } && f.b.scalars.contains { $0 != 0 })
        // √S / √scaling split evenly between A and B: the row norms of A equal the column norms of B.
        for j in 0..<3 {
            let aNorm = (0..<shape[1]).reduce(Float(0)) { $0 + f.a.scalars[j * shape[1] + $1] * f.a.scalars[j * shape[1] + $1] }
            let bNorm = (0..<shape[0]).reduce(Float(0)) { $0 + f.b.scalars[$1 * 3 + j] * f.b.scalars[$1 * 3 + j] }
            #expect(abs(aNorm - bNorm) < 1e-4 * max(1, aNorm))
        }
        // The randomized SVD with power iterations converges to the same product.
        let (fr, residualR, _, _, _) = try Self.initialise(w, .pissa(iterations: 8))
        #expect(Self.maxAbs(residualR + fr.product().scaled(by: s), w) < 1e-5)
    }

    @Test(arguments: [[12, 10], [10, 12]])
    func oloraHasOrthonormalBAndReconstructs(_ shape: [Int]) throws {
        let w = Tensor.randomNormal(shape, std: 0.3, seed: 12)
        let (f, residual, s, _, _) = try Self.initialise(w, .olora)
        #expect(Self.maxAbs(residual + f.product().scaled(by: s), w) < 1e-5)
        #expect(Self.maxAbs(matmul(f.b.transposed(), f.b), Self.identity(3)) < 1e-5)
        for i in 0..<3 { for j in 0..<i { #expect(f.a.scalars[i * shape[1] + j] == 0) } }   // R is upper triangular
        #expect(f.a.scalars.contains { $0 != 0 })
    }

    @Test(arguments: ["tall", "wide"])
    func matchesPEFT(_ name: String) throws {
        let file = try SafeTensorsFile(url: Self.fixture)
        func load(_ key: String) throws -> Tensor {
            let info = try file.tensor(named: key)
            return Tensor(try file.floats(info), shape: info.shape)
        }
        let w = try load("\(name).weight")
        for (key, initialization) in [("pissa", AdapterConfiguration.Initialization.pissa(iterations: nil)),
                                      ("pissa_niter_4", .pissa(iterations: 4)), ("olora", .olora)] {
            let (f, residual, _, _, _) = try Self.initialise(w, rank: 3, alpha: 6, initialization)
            let residualError = Self.maxAbs(residual, try load("\(name).\(key).residual"))
            let productError = Self.maxAbs(f.product(), try load("\(name).\(key).ba"))
            #expect(residualError < 1e-4, "\(name) \(key) residual differs from PEFT by \(residualError)")
            #expect(productError < 1e-4, "\(name) \(key) B·A differs from PEFT by \(productError)")
        }
    }

    @Test(arguments: [AdapterKind.lora, .dora])
    func modelOutputUnchangedAtInit(_ kind: AdapterKind) throws {
        for initialization in Self.decomposing {
            let model = try AdapterFileTests.tinyModel()
            let before = AdapterFileTests.logits(model)
            let originals = model.linears.map(\.weight)
            let set = AdapterSet(model.linears)
            try set.add(Adapter(name: "a", configuration: AdapterFileTests.configuration(kind, initialization: initialization),
                                for: model.linears, seed: 9))
            try set.activate("a")
            // The base weights hold the residual now, so the adapter is doing real work.
            let changed = zip(model.linears.map(\.weight), originals).filter { Self.maxAbs($0, $1) > 1e-3 }.count
            #expect(changed >= 14, "\(initialization): only \(changed) base weights were replaced by residuals")
            let error = AdapterFileTests.maxAbs(AdapterFileTests.logits(model), before)
            #expect(error < 1e-4, "\(kind) \(initialization): logits moved by \(error) at init")
        }
    }

    @Test func rankAboveMatrixSizeIsAClearError() throws {
        let w = Tensor.randomNormal([4, 3], seed: 1)
        for initialization in Self.decomposing {
            #expect(throws: AdapterError.self) { _ = try Self.initialise(w, rank: 5, initialization) }
        }
    }
}
