import Foundation
@testable import LoRAKitFormats

/// Paths of committed fixtures and of the real model.
enum Fixtures {
    /// `Tests/Fixtures/formats`.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/formats")

    static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    /// Little-endian float32 file → `[Float]`.
    static func floats(_ relative: String) throws -> [Float] {
        let data = try Data(contentsOf: url(relative))
        return data.withUnsafeBytes { raw in
            (0 ..< data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// Decodes a JSON fixture (JSONDecoder: exact doubles, unlike JSONSerialization on Linux).
    static func decode<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url(relative)))
    }

    /// The default model (`$LORAKIT_HOME` or `~/.cache/lorakit`), or nil when it has not been fetched.
    static var smolLM2: URL? {
        let home = ProcessInfo.processInfo.environment["LORAKIT_HOME"]
            ?? (NSHomeDirectory() + "/.cache/lorakit")
        let url = URL(fileURLWithPath: home)
            .appendingPathComponent("models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Whether two float arrays are bit-for-bit identical; returns the first mismatch index otherwise.
func firstBitMismatch(_ a: [Float], _ b: [Float]) -> Int? {
    guard a.count == b.count else { return min(a.count, b.count) }
    for i in a.indices where a[i].bitPattern != b[i].bitPattern { return i }
    return nil
}
