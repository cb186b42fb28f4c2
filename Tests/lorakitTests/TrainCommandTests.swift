import ArgumentParser
import Foundation
import LoRAKit
import Testing
@testable import lorakit

@Suite struct TrainCommandTests {
    @Test func flagsBecomeSettingsAndOnlyGivenOnesOverrideTheConfig() throws {
        let command = try TrainCommand.parse([
            "--data", "data/demo", "--rank", "16", "--dora", "--targets", "all-linear", "--lr", "2e-4",
            "--lora-plus-ratio", "16", "--grad-accum", "2", "--grad-checkpoint", "--rank-pattern", "down_proj=32",
        ])
        let flags = command.flags
        #expect(flags["rank"] == .int(16) && flags["dora"] == .bool(true) && flags["lr"] == .double(2e-4))
        #expect(flags["alpha"] == nil && flags["rslora"] == nil, "unset flags must leave config values alone")
        let settings = try TrainSettings(flags: flags, file: ["alpha": .double(64), "rank": .int(4)])
        let adapter = try settings.adapterConfiguration(baseModel: "smollm2-135m")
        #expect(adapter.rank == 16 && adapter.alpha == 64 && adapter.useDoRA && adapter.targets == .allLinear)
        let options = try settings.options
        #expect(options.adam.loraPlusRatio == 16 && options.gradientAccumulation == 2 && options.checkpointLayers)
    }

    /// Bad data stops the run before anything is written, naming the file and line.
    @Test func brokenDataNamesFileAndLineAndWritesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-train-cli-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{\"text\": \"fine\"}\n{\"text\": broken\n".utf8).write(to: folder.appendingPathComponent("train.jsonl"))
        let out = folder.appendingPathComponent("run")
        let command = try TrainCommand.parse(["--data", folder.path, "--out", out.path, "--iters", "1"])
        do {
            try command.run()
            Issue.record("broken data must fail")
        } catch {
            #expect("\(error)".contains("train.jsonl:2:"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func refusesToOverwriteARunAndNeedsData() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-train-cli-\(UUID())")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("checkpoints"),
                                                withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let again = try TrainCommand.parse(["--data", "data/demo", "--out", folder.path])
        #expect(throws: TrainError.self) { try again.run() }
        #expect(throws: TrainError.self) { try TrainCommand.parse(["--out", folder.path + "/x"]).run() }
    }
}
