import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels
import Testing
@testable import LoRAKitTrain

extension ModelTrainingSuites {
    /// The trainer on the real model with a small adapter and short chat examples (each step well under a second).
    @Suite struct TrainerTests {
        static func setup(steps: Int, dropout: Double = 0, dora: Bool = false, configure: (inout TrainingOptions) -> Void = { _ in })
            throws -> (LanguageModel, Trainer) {
            let lm = try TrainTestSupport.sharedModel()
            let adapter = try TrainTestSupport.attachAdapter(to: lm, dora: dora, dropout: dropout)
            let encoder = ExampleEncoder(languageModel: lm)
            let train = try TrainTestSupport.chatExamples(10).map(encoder.encode)
            let valid = try TrainTestSupport.chatExamples(3).map(encoder.encode)
            var options = TrainingOptions()
            options.steps = steps
            options.batchSize = 2
            options.learningRate = 2e-3
            options.warmupSteps = 1
            options.seed = 7
            configure(&options)
            return (lm, try Trainer(model: lm.model, adapter: adapter, train: train, valid: valid, options: options, padID: 2))
        }

        @Test func trainingLowersTheLoss() throws {
            let (_, trainer) = try Self.setup(steps: 12)
            let before = try #require(trainer.validationLoss())
            let losses = (0..<12).map { _ in trainer.step().loss }
            let after = try #require(trainer.validationLoss())
            #expect(after < before - 0.5, "validation loss \(before) → \(after); losses \(losses)")
            #expect(losses.allSatisfy { $0.isFinite })
        }

        /// Issue acceptance: an interrupted and resumed run has the same losses as an uninterrupted one.
        @Test(arguments: [false, true])
        func resumedRunEqualsUninterruptedRun(dora: Bool) throws {
            let configure: (inout TrainingOptions) -> Void = { $0.gradientAccumulation = 2; $0.adam.loraPlusRatio = 4 }
            let (_, straight) = try Self.setup(steps: 4, dropout: 0.1, dora: dora, configure: configure)
            let reference = (0..<4).map { _ in straight.step().loss }

            let folder = TrainTestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (_, first) = try Self.setup(steps: 4, dropout: 0.1, dora: dora, configure: configure)
            let head = (0..<2).map { _ in first.step().loss }
            try TrainingCheckpoint.write(first, to: folder)

            let (_, resumed) = try Self.setup(steps: 4, dropout: 0.1, dora: dora, configure: configure)
            try resumed.restore(from: try TrainingCheckpoint.read(folder))
            #expect(resumed.state == first.state)
            let tail = (0..<2).map { _ in resumed.step().loss }
            #expect(head + tail == reference, "resumed \(head + tail) vs straight \(reference)")
        }

        @Test func checkpointRefusesOtherOptions() throws {
            let folder = TrainTestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (_, trainer) = try Self.setup(steps: 2)
            trainer.step()
            try TrainingCheckpoint.write(trainer, to: folder)
            let (_, other) = try Self.setup(steps: 2) { $0.learningRate = 1 }
            #expect(throws: TrainError.self) { try other.restore(from: try TrainingCheckpoint.read(folder)) }
        }

        @Test func gradientCheckpointingGivesTheSameGradients() throws {
            let (lm, trainer) = try Self.setup(steps: 1)
            let batch = TrainingBatch(Array(trainer.train.prefix(2)), padID: 2)
            func gradients(checkpoint: Bool) -> [[Float]] {
                trainer.parameters.zeroGrad()
                CausalLMLoss.loss(model: lm.model, batch: batch, checkpointLayers: checkpoint).backward()
                return trainer.parameters.entries.map { $0.tensor.grad?.scalars ?? [] }
            }
            let plain = gradients(checkpoint: false), recomputed = gradients(checkpoint: true)
            #expect(plain.allSatisfy { !$0.isEmpty })
            for (a, b) in zip(plain, recomputed) {
                let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                let scale = a.map(abs).max() ?? 1
                #expect(diff <= 1e-5 * max(scale, 1e-3), "max diff \(diff) at scale \(scale)")
            }
        }

        @Test func runFolderHasAdapterMetricsCurveAndCheckpoints() throws {
            let folder = TrainTestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (lm, trainer) = try Self.setup(steps: 4) { $0.validateEvery = 2; $0.saveEvery = 2 }
            var events: [String] = []
            let outcome = try TrainingRun(directory: folder, trainer: trainer).run { event in
                if case .checkpoint(let step, _) = event { events.append("checkpoint \(step)") }
                if case .validation(let step, _) = event { events.append("validation \(step)") }
            }
            #expect(events == ["validation 2", "checkpoint 2", "validation 4", "checkpoint 4"])
            #expect(!outcome.interrupted && outcome.steps == 4)
            let lines = try String(contentsOf: outcome.metrics, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 6)
            let svg = try String(contentsOf: outcome.lossCurve, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("<polyline") && svg.hasSuffix("</svg>\n"))
            // The final adapter is a PEFT folder that loads back with the trained weights.
            let loaded = try PEFTAdapterFile.load(from: outcome.adapter, for: TrainTestSupport.sharedModel().model.linears)
            let key = trainer.parameters.entries[0]
            let reloaded = loaded.modules.flatMap { m in m.variant.parameters.map { (m.module + "." + $0.key, $0.value) } }
            let values = Dictionary(uniqueKeysWithValues: reloaded)
            #expect(values[key.key]?.scalars == key.tensor.scalars)
            #expect(lm.model.linears.contains { !$0.adapters.isEmpty })
        }

        @Test func interruptionCheckpointsAndStops() throws {
            let folder = TrainTestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let (_, trainer) = try Self.setup(steps: 5) { $0.saveEvery = 0 }
            var asked = 0
            let outcome = try TrainingRun(directory: folder, trainer: trainer).run(shouldStop: {
                asked += 1
                return asked == 2
            })
            #expect(outcome.interrupted && outcome.steps == 2)
            #expect(try TrainingCheckpoint.resolve(folder).lastPathComponent == "step-000002")
        }

        @Test func adamWMatchesItsFormula() throws {
            // One parameter, gradient 2·p (loss p²): compare with the closed-form first steps of torch.optim.AdamW.
            let (_, trainer) = try Self.setup(steps: 1)
            let entry = trainer.parameters.entries[0]
            let p0 = entry.tensor.scalars[0]
            let loss = (entry.tensor * entry.tensor).sum()
            trainer.parameters.zeroGrad()
            loss.backward()
            trainer.optimizer.update(learningRate: 0.1)
            let g = 2 * Double(p0), m = 0.1 * g, v = 0.001 * g * g
            let expected = Double(p0) * (1 - 0.1 * 0.01) - 0.1 * (m / 0.1) / ((v / 0.001).squareRoot() + 1e-8)
            #expect(abs(Double(entry.tensor.scalars[0]) - expected) < 1e-6)
        }
    }
}
