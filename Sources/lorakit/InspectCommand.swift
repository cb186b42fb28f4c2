import ArgumentParser
import Foundation
import LoRAKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model's architecture, hyper-parameters and tensors (name, dtype, shape, size)."
    )

    @Argument(help: "A pulled model's name, a path to a .gguf file or a Hugging Face directory, or a PEFT adapter folder.")
    var model: String
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    struct TensorRow: Encodable { let name: String; let dtype: String; let shape: [Int]; let bytes: Int }
    struct Report: Encodable {
        let path: String
        let format: String
        let architecture: String
        let configuration: LlamaConfiguration?
        let parameters: Int
        let bytes: Int
        let tensors: [TensorRow]
    }

    func run() throws {
        let candidate = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(PEFTAdapterFile.configName).path) {
            return try inspectAdapter(candidate)
        }
        let url = try ModelStore().resolve(model)
        let report = try Self.inspect(url)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            writeOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
            return
        }
        var out = "\(report.path)\nformat: \(report.format)   architecture: \(report.architecture)\n"
        if let c = report.configuration {
            out += "hidden \(c.hiddenSize), intermediate \(c.intermediateSize), layers \(c.layerCount), heads \(c.attentionHeads) "
                + "(kv \(c.keyValueHeads)) × \(c.headDim), vocab \(c.vocabularySize), rope theta \(c.ropeTheta), "
                + "rms eps \(c.rmsNormEpsilon), context \(c.maxPositionEmbeddings), tied embeddings \(c.tieWordEmbeddings)\n"
        }
        out += String(format: "%d tensors, %.1f M parameters, %.1f MB\n", report.tensors.count,
                      Double(report.parameters) / 1e6, Double(report.bytes) / 1e6)
        for t in report.tensors {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            out += "  " + t.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                + t.dtype.padding(toLength: 8, withPad: " ", startingAt: 0)
                + shape.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%10d\n", t.bytes)
        }
        writeOut(out)
    }

    /// A PEFT adapter folder: type, rank, alpha, targets, parameter count and size on disk.
    func inspectAdapter(_ folder: URL) throws {
        let summary = try AdapterSummary(folder: folder)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            writeOut(String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n")
            return
        }
        writeOut("""
            \(summary.path)
            adapter: \(summary.kind)\(summary.useRSLoRA ? " (rsLoRA)" : ""), rank \(summary.rank), alpha \(summary.alpha), \
            scaling \(summary.scaling)
            targets: \(summary.targetModules) — \(summary.modules.count) modules
            base model: \(summary.baseModel ?? "not recorded")
            parameters: \(summary.parameters), size on disk: \(String(format: "%.2f", Double(summary.bytesOnDisk) / 1e6)) MB

            """)
    }

    static func inspect(_ url: URL) throws -> Report {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            let configuration = try LlamaConfiguration(huggingFaceConfig: url.appendingPathComponent("config.json"))
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
                .filter { $0.hasSuffix(".safetensors") }.sorted()
            var rows: [TensorRow] = []
            for file in files {
                let st = try SafeTensorsFile(url: url.appendingPathComponent(file))
                rows += st.tensors.map {
                    TensorRow(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape,
                              bytes: $0.shape.reduce(1, *) * $0.dtype.byteSize)
                }
            }
            return Report(path: url.path, format: "huggingface", architecture: "llama", configuration: configuration,
                          parameters: rows.reduce(0) { $0 + $1.shape.reduce(1, *) },
                          bytes: rows.reduce(0) { $0 + $1.bytes }, tensors: rows)
        }
        let gguf = try GGUFFile(url: url)
        let architecture = gguf.metadata.string("general.architecture") ?? "unknown"
        let configuration = architecture == "llama" ? try LlamaConfiguration(gguf: gguf) : nil
        let rows = gguf.tensors.map {
            TensorRow(name: $0.name, dtype: $0.type.name, shape: $0.shape, bytes: $0.byteCount)
        }
        return Report(path: url.path, format: "gguf v\(gguf.version)", architecture: architecture,
                      configuration: configuration, parameters: gguf.tensors.reduce(0) { $0 + $1.elementCount },
                      bytes: rows.reduce(0) { $0 + $1.bytes }, tensors: rows)
    }
}
