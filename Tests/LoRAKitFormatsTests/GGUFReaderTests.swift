import Foundation
import Testing
@testable import LoRAKitFormats

/// metadata.gguf, written by gguf-py with every value type, alignment 64 and tensors of 1–3 dimensions.
@Suite struct GGUFReaderTests {
    let gguf: GGUFFile
    init() throws { gguf = try GGUFFile(url: Fixtures.url("metadata.gguf")) }

    @Test func scalarValues() {
        let m = gguf.metadata
        #expect(gguf.version == 3)
        #expect(m["general.architecture"] == .string("testarch"))
        #expect(m["t.u8"] == .uint8(200))
        #expect(m["t.i8"] == .int8(-100))
        #expect(m["t.u16"] == .uint16(60000))
        #expect(m["t.i16"] == .int16(-30000))
        #expect(m["t.u32"] == .uint32(4_000_000_000))
        #expect(m["t.i32"] == .int32(-2_000_000_000))
        #expect(m["t.u64"] == .uint64(1 << 60))
        #expect(m["t.i64"] == .int64(-(1 << 60)))
        #expect(m["t.f32"] == .float32(0.15625))
        #expect(m["t.f64"] == .float64(-2.5e-300))
        #expect(m.bool("t.true") == true)
        #expect(m.bool("t.false") == false)
        #expect(m.string("t.str") == "héllo wörld ✓")
        #expect(m.int("t.u64") == 1 << 60)
        #expect(m.int("t.i8") == -100)
        #expect(m.float("t.f32") == 0.15625)
        #expect(m.double("t.f64") == -2.5e-300)
        #expect(m.int("t.str") == nil)
        #expect(m.string("t.u8") == nil)
        #expect(m.int("missing") == nil)
    }

    @Test func arrays() {
        let m = gguf.metadata
        #expect(m.stringArray("t.strs") == ["a", "", "ü", "<|im_start|>"])
        #expect(m.array("t.ints") == .int32([1, -2, 3]))
        #expect(m.intArray("t.ints") == [1, -2, 3])
        #expect(m.floatArray("t.floats") == [0.5, -1.25])
        #expect(m.array("t.bools") == .bool([true, false, true]))
        #expect(m.array("t.nested") == .array([.int32([1, 2]), .int32([3]), .string(["x", "y"])]))
        #expect(m.array("t.u8s") == .uint8([1, 2, 255]))
        #expect(m.array("t.f64s") == .float64([1.5, -0.0]))
        #expect(m.stringArray("t.ints") == nil)
        #expect(m.keys.first == "general.architecture")
        #expect(m.keys.contains("general.alignment"))
    }

    @Test func tensorsAndAlignment() throws {
        #expect(gguf.alignment == 64)
        #expect(gguf.dataOffset % 64 == 0)
        #expect(gguf.tensors.map(\.name) == ["vec", "mat", "cube"])
        let vec = try gguf.tensor(named: "vec")
        #expect(vec.shape == [5] && vec.type == .f32)
        #expect(try gguf.dequantize(vec) == [0, 1, 2, 3, 4])
        let mat = try gguf.tensor(named: "mat")
        #expect(mat.shape == [3, 4] && mat.type == .f16 && mat.rowCount == 3 && mat.rowLength == 4)
        #expect(try gguf.dequantize(mat) == (0 ..< 12).map { Float($0) / 4 })
        #expect(try gguf.dequantizeRows(mat, rows: 1 ..< 3) == (4 ..< 12).map { Float($0) / 4 })
        let cube = try gguf.tensor(named: "cube")
        #expect(cube.shape == [2, 3, 4] && cube.ggmlDimensions == [4, 3, 2])
        #expect(cube.rowCount == 6 && cube.bytesPerRow == 16)
        #expect(try gguf.dequantize("cube") == (0 ..< 24).map { Float($0 - 10) })
        for info in gguf.tensors { #expect(info.fileOffset % 64 == 0) }
    }
}
