import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitFormats
import LoRAKitModels
import Testing
@testable import LoRAKitTrain

extension ModelTrainingSuites {
    /// Issue 6 item 7: our loss, gradients and AdamW steps against PEFT + torch on the same adapter and batch
    /// (Tests/Fixtures/train, made by scripts/fixtures/make_train_fixtures.py; semantics in docs/fixtures.md).
    @Suite struct PEFTTrainingParityTests {
        static let folder = TrainTestSupport.fixtures.appendingPathComponent("train")

        struct Batch: Decodable {
            let input_ids: [[Int32]]
            let labels: [[Int32]]
            /// PEFT's loss of the batch per variant.
            let loss: [String: Double]
        }

        struct AdamWSteps: Decodable {
            let lr: Double
            let betas: [Double]
            let eps: Double
            let weight_decay: Double
            let losses: [Double]
            let loss_after: Double
        }

        /// The fixture batch as our examples: HF labels are the ids with -100 on untrained positions.
        static func examples() throws -> (examples: [EncodedExample], expectedLoss: [String: Double]) {
            let batch = try JSONDecoder().decode(Batch.self, from: Data(contentsOf: folder.appendingPathComponent("batch.json")))
            let examples = zip(batch.input_ids, batch.labels).map { ids, labels in
                EncodedExample(ids: ids, lossMask: labels.map { $0 != ignoreIndex })
            }
            for (ids, labels) in zip(batch.input_ids, batch.labels) {
                #expect(zip(ids, labels).allSatisfy { $1 == ignoreIndex || $0 == $1 }, "labels must be the ids or -100")
            }
            return (examples, batch.loss)
        }

        static func loadAdapter(_ variant: String, into lm: LanguageModel) throws -> Adapter {
            let adapter = try PEFTAdapterFile.load(from: folder.appendingPathComponent(variant).appendingPathComponent("adapter"),
                                                   for: lm.model.linears, name: variant)
            let set = AdapterSet(lm.model.linears)
            try set.add(adapter)
            try set.activate(variant)
            return adapter
        }

        @Test(arguments: ["lora", "rslora"])
        func gradientsMatchPEFT(_ variant: String) throws {
            let lm = try TrainTestSupport.sharedModel()
            let adapter = try Self.loadAdapter(variant, into: lm)
            let (examples, expectedLoss) = try Self.examples()
            let parameters = TrainableParameters(adapter)
            let loss = CausalLMLoss.loss(model: lm.model, batch: TrainingBatch(examples, padID: 0))
            loss.backward()
            let peftLoss = try #require(expectedLoss[variant])
            #expect(abs(Double(loss.scalar) - peftLoss) < 1e-4, "loss \(loss.scalar) vs PEFT \(peftLoss)")
            let reference = try SafeTensorsFile(url: Self.folder.appendingPathComponent(variant)
                .appendingPathComponent("grads.safetensors"))
            #expect(reference.tensors.count == parameters.entries.count)
            // Relative errors: of each tensor's gradient, and of all gradients as one vector. The largest per-tensor
            // errors (~1.4e-4, layer 29's v_proj A) sit at the fp32 noise floor: our logits and transformers' differ by
            // 2e-5..7e-5 (summation order), which moves the softmax and so every gradient by about that much.
            var worst = 0.0, squaredError = 0.0, squaredNorm = 0.0
            for entry in parameters.entries {
                let expected = try reference.floats(PEFTAdapterFile.keyPrefix + entry.key)
                let got = try #require(entry.tensor.grad).scalars
                let norm = expected.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                let diff = zip(got, expected).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
                worst = max(worst, diff / max(norm, 1e-12))
                squaredError += diff * diff
                squaredNorm += norm * norm
                #expect(norm > 0, "\(entry.key): PEFT's gradient is zero, the check would be empty")
            }
            let overall = (squaredError / squaredNorm).squareRoot()
            #expect(overall < 1e-4, "relative error of the whole gradient \(overall)")
            #expect(worst < 3e-4, "largest relative error of one tensor's gradient \(worst)")
            parameters.zeroGrad()
        }

        @Test(arguments: ["lora", "rslora"])
        func fiveAdamWStepsMatchTorch(_ variant: String) throws {
            let lm = try TrainTestSupport.sharedModel()
            let adapter = try Self.loadAdapter(variant, into: lm)
            let (examples, _) = try Self.examples()
            let steps = try JSONDecoder().decode(AdamWSteps.self, from: Data(contentsOf: Self.folder
                .appendingPathComponent(variant).appendingPathComponent("adamw.json")))
            var options = TrainingOptions()
            options.steps = steps.losses.count
            options.batchSize = examples.count
            options.learningRate = steps.lr
            options.schedule = .constant
            options.maxGradientNorm = 0
            options.adam.beta1 = steps.betas[0]
            options.adam.beta2 = steps.betas[1]
            options.adam.epsilon = steps.eps
            options.adam.weightDecay = steps.weight_decay
            let initial = Dictionary(uniqueKeysWithValues: adapter.modules.flatMap { m in
                m.variant.parameters.map { (m.module + "." + $0.key, $0.value.scalars) }
            })
            let trainer = try Trainer(model: lm.model, adapter: adapter, train: examples, options: options)
            let losses = (0..<options.steps).map { _ in trainer.step().loss }
            let after = LossEvaluator.evaluate(model: lm.model, examples: examples, batchSize: examples.count).meanLoss
            for (ours, theirs) in zip(losses + [after], steps.losses + [steps.loss_after]) {
                #expect(abs(ours - theirs) < 2e-4 * max(1, abs(theirs)), "losses \(losses + [after]) vs \(steps.losses + [steps.loss_after])")
            }
            let final = try SafeTensorsFile(url: Self.folder.appendingPathComponent(variant)
                .appendingPathComponent("adamw_final.safetensors"))
            // The weights' change over the 5 steps, ours against torch's, per tensor. (Adam's first steps move every
            // weight by about ±lr whatever its gradient's size, so elementwise differences are not a fair measure.)
            for entry in trainer.parameters.entries {
                let expected = try final.floats(PEFTAdapterFile.keyPrefix + entry.key)
                let start = try #require(initial[entry.key])
                var error = 0.0, change = 0.0
                for (i, value) in entry.tensor.scalars.enumerated() {
                    error += Double(value - expected[i]) * Double(value - expected[i])
                    change += Double(expected[i] - start[i]) * Double(expected[i] - start[i])
                }
                let relative = (error / change).squareRoot()
                #expect(relative < 1e-2, "\(entry.key): the 5-step update differs from torch's by \(relative) relative")
            }
        }
    }
}
