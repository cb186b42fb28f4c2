import Foundation
import Testing
@testable import LoRAKitFormats

/// safetensors_values.json (written with the fixture by the Python `safetensors` package).
struct SafeTensorsReference: Decodable {
    var shape: [Int]
    var dtype: String
    var values: [Double]
}

@Suite struct SafeTensorsTests {
    static func makeWriter() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "quote\"d": "line\nbreak ✓"])
        let values = (0 ..< 12).map { Float($0) * 0.3 - 1.7 }
        try writer.add("w.f32", shape: [3, 4], values: values)
        try writer.add("w.f16", shape: [4, 3], values: values, as: .f16)
        try writer.add("w.bf16", shape: [2, 6], values: values, as: .bf16)
        try writer.add("scalar", shape: [], values: [2.5])
        try writer.add("empty", shape: [0, 4], values: [])
        let ids: [Int64] = [5, -1, 1 << 40]
        try writer.add("ids", shape: [3], dtype: .i64, bytes: ids.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } })
        return writer
    }

    @Test func readsPythonFixture() throws {
        let st = try SafeTensorsFile(url: Fixtures.url("reference.safetensors"))
        #expect(st.metadata == ["format": "pt", "note": "fixture ✓"])
        let reference = try Fixtures.decode([String: SafeTensorsReference].self, "safetensors_values.json")
        #expect(Set(st.tensors.map(\.name)) == Set(reference.keys))
        for (name, expected) in reference {
            let info = try st.tensor(named: name)
            #expect(info.shape == expected.shape, "\(name)")
            if expected.dtype.hasPrefix("int") {
                #expect(try st.integers(name) == expected.values.map { Int($0) }, "\(name)")
                #expect(throws: FormatError.self) { try st.floats(name) }
            } else {
                #expect(try st.floats(name).map(Double.init) == expected.values, "\(name)")
            }
        }
        #expect(try st.tensor(named: "weight.bf16").dtype == .bf16)
        #expect(try st.tensor(named: "ids.i64").dtype == .i64)
        #expect(try st.tensor(named: "scalar").elementCount == 1)
        #expect(throws: FormatError.self) { try st.tensor(named: "nope") }
    }

    @Test func writerMatchesReferenceByteForByte() throws {
        // Re-writing the Python fixture's tensors gives the identical file (layout, header order, padding).
        let st = try SafeTensorsFile(url: Fixtures.url("reference.safetensors"))
        var writer = SafeTensorsWriter(metadata: st.metadata)
        for info in st.tensors.reversed() {
            try writer.add(info.name, shape: info.shape, dtype: info.dtype, bytes: Array(st.rawBytes(info)))
        }
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("copy.safetensors")
        try writer.write(to: url)
        #expect(try Data(contentsOf: url) == Data(contentsOf: Fixtures.url("reference.safetensors")))
    }

    @Test func roundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("rt.safetensors")
        try Self.makeWriter().write(to: url)
        let st = try SafeTensorsFile(url: url)
        let values = (0 ..< 12).map { Float($0) * 0.3 - 1.7 }
        #expect(st.metadata == ["format": "pt", "quote\"d": "line\nbreak ✓"])
        #expect(try st.floats("w.f32") == values)
        #expect(try st.floats("w.f16") == values.map { HalfConversion.float(fromHalf: HalfConversion.half(from: $0)) })
        #expect(try st.floats("w.bf16") == values.map { HalfConversion.float(fromBFloat16: HalfConversion.bfloat16(from: $0)) })
        #expect(try st.floats("scalar") == [2.5])
        #expect(try st.floats("empty") == [])
        #expect(try st.tensor(named: "empty").shape == [0, 4])
        #expect(try st.integers("ids") == [5, -1, 1 << 40])
        #expect(st.dataOffset % 8 == 0)
        #expect(st.tensors.first?.name == "ids")  // I64 is laid out first, as the reference does
    }

    @Test func badFilesThrow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        func error(_ bytes: [UInt8]) -> String? {
            let url = dir.file("bad.safetensors")
            // Unlink first: truncating a file in place makes ext4 flush it (auto_da_alloc), which is slow.
        try? FileManager.default.removeItem(at: url)
        try? Data(bytes).write(to: url)
            do {
                let st = try SafeTensorsFile(url: url)
                for info in st.tensors where info.dtype.isConvertibleToFloat { _ = try st.floats(info) }
                return nil
            } catch let e as FormatError {
                return e.description
            } catch {
                return "unexpected \(error)"
            }
        }
        func file(_ json: String, data: Int = 0) -> [UInt8] {
            var bytes = [UInt8]()
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes += $0 }
            return bytes + Array(json.utf8) + [UInt8](repeating: 0, count: data)
        }
        let original = try [UInt8](Data(contentsOf: Fixtures.url("reference.safetensors")))
        for cut in 0 ..< original.count {
            let message = error(Array(original[0 ..< cut]))
            #expect(message?.contains("bad.safetensors") == true, "cut \(cut): \(message ?? "opened")")
        }
        #expect(error([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B])?.contains("exceeds 100 MB") == true)
        #expect(error(file("[1,2]"))?.contains("does not start with '{'") == true)
        #expect(error(file("{\"a\":"))?.contains("invalid JSON header") == true)
        #expect(error(file(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: 1))?.contains("unknown dtype 'Q4'") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4))?.contains("needs 2 × 4 bytes") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 2))?.contains("truncated") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: 8))?.contains("data_offsets [4, 0]") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 8)) != nil)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: 8))?.contains("absurd") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8))?.contains("overlap") == true)
        #expect(error(file(#"{"a":{"dtype":"F32","shape":[1]}}"#))?.contains("data_offsets") == true)
        for _ in 0 ..< 200 {
            let random = (0 ..< Int.random(in: 0 ... 64)).map { _ in UInt8.random(in: 0 ... 255) }
            #expect(error(random) != nil)
        }
    }

    @Test func writerRejectsBadInput() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [1], values: [1])
        #expect(throws: FormatError.self) { try writer.add("a", shape: [1], values: [1]) }
        #expect(throws: FormatError.self) { try writer.add("b", shape: [2], values: [1]) }
        #expect(throws: FormatError.self) { try writer.add("b", shape: [1], values: [1], as: .i32) }
        #expect(throws: FormatError.self) { try writer.add("__metadata__", shape: [1], values: [1]) }
        #expect(throws: FormatError.self) { try writer.add("c", shape: [2], dtype: .i32, bytes: [1, 2, 3]) }
        #expect(SafeTensorsWriter.quote("a\"b\\c\n\u{01}é") == #""a\"b\\c\n\u0001é""#)
    }
}
