import Foundation
import Testing
@testable import LoRAKitFormats

/// Little-endian byte builder for hand-made (often broken) GGUF files.
struct GGUFBytes {
    var bytes = [UInt8]()
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes += Array("GGUF".utf8)
        u32(version); u64(tensors); u64(kvs)
    }
    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name); u32(UInt32(dims.count)); dims.forEach { u64($0) }; u32(type); u64(offset)
    }
    mutating func padTo(_ alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }
}

@Suite struct GGUFRobustnessTests {
    /// Opens `bytes` as a file and returns the error thrown (nil if it opened).
    func openError(_ bytes: [UInt8], in dir: TemporaryDirectory, name: String = "bad.gguf") -> FormatError? {
        let url = dir.file(name)
        // Unlink first: truncating a file in place makes ext4 flush it (auto_da_alloc), which is slow.
        try? FileManager.default.removeItem(at: url)
        try? Data(bytes).write(to: url)
        do {
            let file = try GGUFFile(url: url)
            for info in file.tensors where info.type.canDequantize { _ = try file.dequantize(info) }
            return nil
        } catch let error as FormatError {
            return error
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    static let fixtures = ["metadata.gguf"] + GGMLType.dequantizable.map { "quant/\($0.name).gguf" }

    @Test(arguments: fixtures)
    func truncatedFilesThrow(_ fixture: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let bytes = try [UInt8](Data(contentsOf: Fixtures.url(fixture)))
        let gguf = try GGUFFile(url: Fixtures.url(fixture))
        let dataEnd = gguf.tensors.map { $0.fileOffset + $0.byteCount }.max() ?? gguf.dataOffset
        // Every cut in the header of metadata.gguf (every 3rd elsewhere), then every 13th byte in the data.
        var cuts = Array(stride(from: 0, to: min(gguf.dataOffset, dataEnd), by: fixture == "metadata.gguf" ? 1 : 3))
        cuts += stride(from: gguf.dataOffset, to: dataEnd, by: 13)
        cuts.append(dataEnd - 1)
        for cut in cuts {
            let error = openError(Array(bytes[0 ..< cut]), in: dir)
            #expect(error != nil, "\(fixture) cut at \(cut) of \(bytes.count) opened without error")
            if let error { #expect(error.description.contains("bad.gguf"), "\(error)") }
        }
    }

    @Test func randomBytesThrow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var rng = SystemRandomNumberGenerator()
        for length in [0, 1, 3, 4, 8, 23, 24, 100, 4096] {
            let bytes = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let error = openError(bytes, in: dir)
            #expect(error != nil)
        }
        // Valid magic and version followed by garbage.
        for _ in 0 ..< 200 {
            var b = GGUFBytes()
            b.bytes = Array("GGUF".utf8)
            b.u32(3)
            b.bytes += (0 ..< Int.random(in: 0 ... 300)).map { _ in UInt8.random(in: 0 ... 255) }
            _ = openError(b.bytes, in: dir)  // must not crash; small random counts may legitimately parse
        }
    }

    /// Corrupting header bytes of real fixtures must never crash (either an error or a consistent file).
    @Test(arguments: fixtures)
    func corruptedHeadersNeverCrash(_ fixture: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let original = try [UInt8](Data(contentsOf: Fixtures.url(fixture)))
        let headerEnd = try GGUFFile(url: Fixtures.url(fixture)).dataOffset
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 4) {
                bytes[Int.random(in: 8 ..< headerEnd, using: &generator)] = UInt8.random(in: 0 ... 255)
            }
            _ = openError(bytes, in: dir)
        }
    }

    @Test func wrongMagicAndVersion() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var ggml = GGUFBytes()
        ggml.bytes = Array("GGML".utf8); ggml.u32(3); ggml.u64(0); ggml.u64(0)
        let magic = try #require(openError(ggml.bytes, in: dir))
        #expect(magic.description.contains("not a GGUF file"))
        #expect(magic.description.contains("47 47 4d 4c"))
        var v1 = GGUFBytes()
        v1.header(version: 1, tensors: 0, kvs: 0)
        #expect(openError(v1.bytes, in: dir) == .unsupportedVersion(path: dir.file("bad.gguf").path, version: 1))
        var bigEndian = GGUFBytes()
        bigEndian.header(version: 3 << 24, tensors: 0, kvs: 0)
        #expect(openError(bigEndian.bytes, in: dir)?.description.contains("big-endian") == true)
        let empty = try #require(openError([], in: dir))
        #expect(empty.description.contains("empty"))
    }

    @Test func absurdCountsThrowWithoutAllocating() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var tensors = GGUFBytes()
        tensors.header(tensors: 1 << 60, kvs: 0)
        let t = try #require(openError(tensors.bytes, in: dir))
        #expect(t.description.contains("tensor count"))
        var kvs = GGUFBytes()
        kvs.header(tensors: 0, kvs: UInt64.max)
        #expect(openError(kvs.bytes, in: dir)?.description.contains("metadata entry count") == true)
        var longKey = GGUFBytes()
        longKey.header(tensors: 0, kvs: 1)
        longKey.u64(1 << 40)  // key length past the end
        longKey.bytes += [UInt8](repeating: 65, count: 32)
        #expect(openError(longKey.bytes, in: dir)?.description.contains("length of metadata key #0") == true)
        var longString = GGUFBytes()
        longString.header(tensors: 0, kvs: 1)
        longString.string("k"); longString.u32(8); longString.u64(UInt64.max)
        #expect(openError(longString.bytes, in: dir) != nil)
        var bigArray = GGUFBytes()
        bigArray.header(tensors: 0, kvs: 1)
        bigArray.string("k"); bigArray.u32(9); bigArray.u32(5); bigArray.u64(1 << 62)
        #expect(openError(bigArray.bytes, in: dir)?.description.contains("element count") == true)
        var deep = GGUFBytes()
        deep.header(tensors: 0, kvs: 1)
        deep.string("k"); deep.u32(9)
        for _ in 0 ..< 100 { deep.u32(9); deep.u64(1) }
        #expect(openError(deep.bytes, in: dir)?.description.contains("nests arrays too deeply") == true)
        var badType = GGUFBytes()
        badType.header(tensors: 0, kvs: 1)
        badType.string("k"); badType.u32(77)
        #expect(openError(badType.bytes, in: dir)?.description.contains("unknown value type 77") == true)
        var hugeDims = GGUFBytes()
        hugeDims.header(tensors: 1, kvs: 0)
        hugeDims.tensorInfo("t", dims: [1 << 40, 1 << 40], type: 0, offset: 0)
        #expect(openError(hugeDims.bytes, in: dir)?.description.contains("absurd dimensions") == true)
        var manyDims = GGUFBytes()
        manyDims.header(tensors: 1, kvs: 0)
        manyDims.tensorInfo("t", dims: [1, 1, 1, 1, 1], type: 0, offset: 0)
        #expect(openError(manyDims.bytes, in: dir)?.description.contains("5 dimensions") == true)
    }

    @Test func badTensorPlacementThrows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        func file(_ infos: [(String, [UInt64], UInt32, UInt64)], dataBytes: Int) -> [UInt8] {
            var b = GGUFBytes()
            b.header(tensors: UInt64(infos.count), kvs: 0)
            for (name, dims, type, offset) in infos { b.tensorInfo(name, dims: dims, type: type, offset: offset) }
            b.padTo(32)
            b.bytes += [UInt8](repeating: 0, count: dataBytes)
            return b.bytes
        }
        #expect(openError(file([("a", [8], 0, 0), ("b", [8], 0, 0)], dataBytes: 64), in: dir)?
            .description.contains("overlap") == true)
        #expect(openError(file([("a", [16], 0, 0), ("b", [8], 0, 32)], dataBytes: 96), in: dir)?
            .description.contains("overlap") == true)
        #expect(openError(file([("a", [8], 0, 0), ("b", [8], 0, 1 << 62)], dataBytes: 64), in: dir)?
            .description.contains("data of tensor 'b'") == true)
        #expect(openError(file([("a", [8], 0, 16)], dataBytes: 64), in: dir)?
            .description.contains("not aligned") == true)
        #expect(openError(file([("a", [8], 0, 0), ("a", [8], 0, 32)], dataBytes: 64), in: dir)?
            .description.contains("appears twice") == true)
        #expect(openError(file([("q", [33], 8, 0)], dataBytes: 64), in: dir)?
            .description.contains("not whole Q8_0 blocks") == true)
        #expect(openError(file([("x", [8], 99, 0)], dataBytes: 64), in: dir) ==
            .unknownTensorType(path: dir.file("bad.gguf").path, tensor: "x", rawValue: 99))
        // A known type without a kernel opens, and reports its name and number when dequantized.
        let url = dir.file("iq.gguf")
        try Data(file([("w", [256], 16, 0)], dataBytes: 96)).write(to: url)
        let gguf = try GGUFFile(url: url)
        let error = #expect(throws: FormatError.self) { try gguf.dequantize("w") }
        #expect(error?.description.contains("IQ2_XXS (16)") == true)
        #expect(gguf.rawBytes(try gguf.tensor(named: "w")).count == 66)
    }

    @Test func missingFileAndDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        #expect(throws: FormatError.self) { try GGUFFile(url: dir.file("nope.gguf")) }
        let error = #expect(throws: FormatError.self) { try GGUFFile(url: dir.url) }
        #expect(error?.description.contains("not a regular file") == true)
    }
}
