import Testing
@testable import LoRAKitCore

@Suite struct AutogradTests {
    @Test func onlyOpsOnTrainableTensorsAreRecorded() {
        let frozen = randn([2, 3], seed: 1)
        #expect(!(frozen * 2).requiresGrad)
        let p = randn([2, 3], seed: 2).requiringGrad()
        #expect((frozen + p).requiresGrad)
        #expect(!withNoGrad { frozen + p }.requiresGrad)
        #expect(GradMode.isEnabled)
    }

    @Test func leavesAccumulateUntilZeroed() {
        let w = Tensor([1, 2], shape: [2]).requiringGrad()
        (w * Tensor([3, 4], shape: [2])).sum().backward()
        #expect(w.grad?.scalars == [3, 4])
        (w * 2).sum().backward()
        #expect(w.grad?.scalars == [5, 6])
        w.zeroGrad()
        #expect(w.grad == nil)
    }

    @Test func sharedSubgraphGradientsAdd() {
        let x = Tensor([2], shape: [1]).requiringGrad()
        let y = x * x  // used twice below
        (y + y * x).sum().backward()  // d/dx (x² + x³) = 2x + 3x² = 16
        #expect(x.grad?.scalars == [16])
    }

    @Test func frozenWeightsGetNoGradientAnywhere() {
        let w = randn([5, 4], seed: 3), emb = randn([10, 4], seed: 4)
        let a = randn([4, 2], seed: 5).requiringGrad()  // a LoRA-like trainable factor
        let x = embedding(emb, ids: [1, 2, 3])
        let h = linear(x, weight: w) + linear(matmul(x, a), weight: randn([5, 2], seed: 6))
        linearCrossEntropy(hidden: h.reshaped([3, 5]), weight: randn([7, 5], seed: 7), targets: [1, 2, 3]).backward()
        #expect(a.grad != nil && w.grad == nil && emb.grad == nil)
    }
}
