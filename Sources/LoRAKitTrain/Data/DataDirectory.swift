import Foundation
import LoRAKitCore

/// Training data laid out as mlx-lm expects: a folder with `train.jsonl` and optionally `valid.jsonl` and `test.jsonl`,
/// or a single JSONL file split into train and validation by a seeded shuffle.
public struct TrainingData: Sendable {
    public var train: [TrainingExample]
    public var valid: [TrainingExample]
    public var test: [TrainingExample]

    public init(train: [TrainingExample], valid: [TrainingExample] = [], test: [TrainingExample] = []) {
        self.train = train
        self.valid = valid
        self.test = test
    }

    /// Loads a data folder (`train.jsonl`, `valid.jsonl`, `test.jsonl`) or one `.jsonl` file.
    /// - Parameters:
    ///   - validSplit: with no `valid.jsonl`, this fraction of the training examples is held out for validation.
    ///   - seed: the seed of the shuffle that chooses the held-out examples.
    /// - Throws: ``DataError`` naming the file and line of any problem.
    public static func load(_ url: URL, validSplit: Double = 0, seed: UInt64 = 0) throws -> TrainingData {
        guard validSplit >= 0, validSplit < 1 else {
            throw DataError(file: url.path, line: nil, problem: "--valid-split must be in [0, 1), got \(validSplit)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError(file: url.path, line: nil, problem: "no such file or folder")
        }
        var data: TrainingData
        if isDirectory.boolValue {
            let trainURL = url.appendingPathComponent("train.jsonl")
            guard FileManager.default.fileExists(atPath: trainURL.path) else {
                throw DataError(file: url.path, line: nil,
                                problem: "no train.jsonl in this folder (expected train.jsonl, valid.jsonl, test.jsonl)")
            }
            func optional(_ name: String) throws -> [TrainingExample] {
                let file = url.appendingPathComponent(name)
                return FileManager.default.fileExists(atPath: file.path) ? try JSONLReader.read(file) : []
            }
            data = TrainingData(train: try JSONLReader.read(trainURL), valid: try optional("valid.jsonl"),
                                test: try optional("test.jsonl"))
        } else {
            data = TrainingData(train: try JSONLReader.read(url))
        }
        if data.valid.isEmpty && validSplit > 0 {
            var order = Array(data.train.indices)
            var random = SplitMix64(seed: seed)
            order.shuffle(using: &random)
            let held = max(1, Int((Double(order.count) * validSplit).rounded()))
            guard held < order.count else {
                throw DataError(file: url.path, line: nil, problem: "too few examples (\(order.count)) to hold out "
                                + "\(Int(validSplit * 100))% for validation")
            }
            let heldOut = Set(order.prefix(held))
            data.valid = order.prefix(held).sorted().map { data.train[$0] }
            data.train = data.train.indices.filter { !heldOut.contains($0) }.map { data.train[$0] }
        }
        return data
    }
}
