import Foundation
import Testing
@testable import LoRAKitFormats

@Suite struct GGUFWriterTests {
    static let allValues: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("t.u8", .uint8(255)), ("t.i8", .int8(-128)), ("t.u16", .uint16(65535)), ("t.i16", .int16(-32768)),
        ("t.u32", .uint32(.max)), ("t.i32", .int32(.min)), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)),
        ("t.f32", .float32(-1.5e-7)), ("t.f64", .float64(.pi)), ("t.bool", .bool(true)), ("t.str", .string("ünï ✓")),
        ("t.empty", .string("")),
        ("t.strs", .array(.string(["<s>", "", "Ġthe"]))), ("t.i32s", .array(.int32([1, -1]))),
        ("t.f32s", .array(.float32([0.25, -8]))), ("t.bools", .array(.bool([false, true]))),
        ("t.u8s", .array(.uint8([]))), ("t.u64s", .array(.uint64([1, .max]))),
        ("t.nested", .array(.array([.int32([1, 2]), .string(["a"]), .array([.float64([2.5])])]))),
    ]

    func makeWriter(alignment: Int = 32) throws -> (GGUFWriter, [Float]) {
        var writer = GGUFWriter(alignment: alignment)
        for (key, value) in Self.allValues { writer.setValue(value, forKey: key) }
        let values = (0 ..< 96).map { Float($0) * 0.37 - 11 }
        try writer.addTensor("a.f32", shape: [3, 32], values: values)
        try writer.addTensor("b.f16", shape: [2, 48], values: values, type: .f16)
        try writer.addTensor("c.bf16", shape: [96], values: values, type: .bf16)
        try writer.addTensor("d.scalar", shape: [], values: [42])
        try writer.addTensor("e.q8", shape: [1, 32], type: .q8_0, bytes: [0x00, 0x3C] + (0 ..< 32).map { UInt8($0) })
        return (writer, values)
    }

    @Test(arguments: [32, 64, 8])
    func roundTrip(alignment: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let (writer, values) = try makeWriter(alignment: alignment)
        let url = dir.file("out.gguf")
        try writer.write(to: url)
        let gguf = try GGUFFile(url: url)
        #expect(gguf.version == 3)
        #expect(gguf.alignment == alignment)
        for (key, value) in Self.allValues { #expect(gguf.metadata[key] == value, "\(key)") }
        #expect(gguf.metadata.int("general.alignment") == (alignment == 32 ? nil : alignment))
        #expect(gguf.tensors.map(\.name) == ["a.f32", "b.f16", "c.bf16", "d.scalar", "e.q8"])
        #expect(try gguf.dequantize("a.f32") == values)
        #expect(try gguf.dequantize("b.f16") == values.map { HalfConversion.float(fromHalf: HalfConversion.half(from: $0)) })
        #expect(try gguf.dequantize("c.bf16") == values.map {
            HalfConversion.float(fromBFloat16: HalfConversion.bfloat16(from: $0))
        })
        #expect(try gguf.tensor(named: "b.f16").shape == [2, 48])
        #expect(try gguf.tensor(named: "d.scalar").shape == [])
        #expect(try gguf.dequantize("d.scalar") == [42])
        #expect(try gguf.dequantize("e.q8") == (0 ..< 32).map { Float($0) })
        for info in gguf.tensors { #expect(info.fileOffset % alignment == 0) }
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["out.gguf"])
    }

    /// Copying every tensor and metadata entry of a fixture reproduces it bit for bit.
    @Test func copyReproducesGGUFPyFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        for name in ["metadata.gguf", "quant/Q4_K.gguf", "quant/F16.gguf"] {
            let source = try GGUFFile(url: Fixtures.url(name))
            var writer = GGUFWriter(alignment: source.alignment)
            writer.setValues(from: source.metadata)
            for info in source.tensors {
                try writer.addTensor(info.name, shape: info.shape, type: info.type, bytes: Array(source.rawBytes(info)))
            }
            let url = dir.file("copy.gguf")
            try writer.write(to: url)
            #expect(try Data(contentsOf: url) == Data(contentsOf: Fixtures.url(name)), "\(name)")
        }
    }

    @Test func invalidInputsThrow() throws {
        var writer = GGUFWriter()
        try writer.addTensor("x", shape: [2], values: [1, 2])
        #expect(throws: FormatError.self) { try writer.addTensor("x", shape: [2], values: [1, 2]) }
        #expect(throws: FormatError.self) { try writer.addTensor("y", shape: [3], values: [1, 2]) }
        #expect(throws: FormatError.self) { try writer.addTensor("y", shape: [2], values: [1, 2], type: .q8_0) }
        #expect(throws: FormatError.self) { try writer.addTensor("y", shape: [1, 1, 1, 1, 2], values: [1, 2]) }
        #expect(throws: FormatError.self) { try writer.addTensor("y", shape: [1, 32], type: .q8_0, bytes: [0]) }
        #expect(throws: FormatError.self) { try writer.addTensor("y", shape: [1, 31], type: .q8_0, bytes: []) }
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var bad = GGUFWriter(alignment: 48)
        bad.setValue(.string("x"), forKey: "general.architecture")
        #expect(throws: FormatError.self) { try bad.write(to: dir.file("bad.gguf")) }
        let missingDirectory = dir.file("no/such/dir/x.gguf")
        let error = #expect(throws: FormatError.self) { try writer.write(to: missingDirectory) }
        #expect(error?.description.contains("x.gguf") == true)
    }

    /// Writes files for scripts/fixtures/check_format_interop.py when LORAKIT_FORMATS_INTEROP_DIR is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LORAKIT_FORMATS_INTEROP_DIR"] != nil))
    func writeInteropFiles() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["LORAKIT_FORMATS_INTEROP_DIR"] ?? ".")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (writer, _) = try makeWriter(alignment: 64)
        try writer.write(to: dir.appendingPathComponent("swift.gguf"))
        try SafeTensorsTests.makeWriter().write(to: dir.appendingPathComponent("swift.safetensors"))
    }
}
