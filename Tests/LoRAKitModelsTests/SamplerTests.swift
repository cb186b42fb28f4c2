import Foundation
import Testing
@testable import LoRAKitModels

@Suite struct SamplerTests {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.0]

    func draw(_ parameters: SamplingParameters, times: Int = 200, context: [Int32] = []) -> [Int32] {
        var sampler = Sampler(parameters)
        return logits.withUnsafeBufferPointer { buffer in
            (0..<times).map { _ in sampler.sample(logits: buffer, context: context) }
        }
    }

    @Test func greedyIsArgmax() {
        #expect(Set(draw(.greedy, times: 5)) == [1])
    }

    @Test func argmaxTakesTheFirstOfTies() {
        #expect(Sampler.argmax([0, 2, 2, 1] as [Float]) == 1)
    }

    @Test func topKOneIsGreedyAtAnyTemperature() {
        #expect(Set(draw(SamplingParameters(temperature: 5, topK: 1, seed: 3))) == [1])
    }

    @Test func topKKeepsOnlyTheBest() {
        #expect(Set(draw(SamplingParameters(temperature: 10, topK: 2, seed: 1))).isSubset(of: [1, 2]))
    }

    /// p(1) ≈ 0.53, p(2) ≈ 0.32 at T=1: top-p 0.6 keeps {1, 2}; top-p 0.5 keeps {1}.
    @Test func topPCutsTheTail() {
        #expect(Set(draw(SamplingParameters(temperature: 1, topP: 0.6, seed: 2))) == [1, 2])
        #expect(Set(draw(SamplingParameters(temperature: 1, topP: 0.5, seed: 2))) == [1])
    }

    /// min-p 0.5: p(2)/p(1) = e^-0.5 ≈ 0.61 stays; p(0)/p(1) = e^-2 drops.
    @Test func minPDropsUnlikelyTokens() {
        #expect(Set(draw(SamplingParameters(temperature: 1, minP: 0.5, seed: 4))) == [1, 2])
    }

    @Test func repetitionPenaltyDemotesSeenTokens() {
        // 3.0 / 2 = 1.5 < 2.5: token 2 wins greedily once token 1 is in the context.
        #expect(draw(SamplingParameters(repetitionPenalty: 2), times: 1, context: [1]) == [2])
    }

    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        let a = draw(SamplingParameters(temperature: 1.5, seed: 7))
        #expect(a == draw(SamplingParameters(temperature: 1.5, seed: 7)))
        #expect(a != draw(SamplingParameters(temperature: 1.5, seed: 8)))
    }

    /// The empirical distribution at T=1 follows softmax within sampling noise.
    @Test func frequenciesFollowSoftmax() {
        let samples = draw(SamplingParameters(temperature: 1, seed: 11), times: 20000)
        let exps = logits.map { exp(Double($0)) }
        let total = exps.reduce(0, +)
        for token in 0..<logits.count {
            let observed = Double(samples.filter { $0 == Int32(token) }.count) / Double(samples.count)
            #expect(abs(observed - exps[token] / total) < 0.015, "token \(token)")
        }
    }

    @Test(arguments: [
        SamplingParameters(temperature: -1), SamplingParameters(topK: -2), SamplingParameters(topP: 0),
        SamplingParameters(topP: 1.5), SamplingParameters(minP: 2), SamplingParameters(repetitionPenalty: 0),
        SamplingParameters(temperature: .nan),
    ])
    func badParametersAreRefused(_ parameters: SamplingParameters) {
        #expect(throws: SamplingError.self) { try parameters.validate() }
    }
}
