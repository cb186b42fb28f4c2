import Foundation
import Testing
@testable import LoRAKitFormats

/// Every supported type against gguf-py's `dequantize` on random valid blocks (fixtures by
/// scripts/fixtures/make_format_fixtures.py): results must be bit-identical.
@Suite struct GGMLDequantizerTests {
    static let types = GGMLType.dequantizable

    @Test(arguments: types)
    func matchesGGUFPy(_ type: GGMLType) throws {
        let gguf = try GGUFFile(url: Fixtures.url("quant/\(type.name).gguf"))
        let info = try gguf.tensor(named: "t")
        #expect(info.type == type)
        #expect(info.shape.count == 2)
        let reference = try Fixtures.floats("quant/\(type.name).f32")
        #expect(reference.count == info.elementCount)
        let values = try gguf.dequantize(info)
        #expect(firstBitMismatch(values, reference) == nil, "first mismatch at \(firstBitMismatch(values, reference) ?? -1)")
        // The fixtures contain non-trivial values.
        #expect(Set(values.map(\.bitPattern)).count > info.elementCount / 8)
    }

    @Test(arguments: types)
    func rowsMatchWholeTensor(_ type: GGMLType) throws {
        let gguf = try GGUFFile(url: Fixtures.url("quant/\(type.name).gguf"))
        let info = try gguf.tensor(named: "t")
        let all = try gguf.dequantize(info)
        let n = info.rowLength
        for start in 0 ..< info.rowCount {
            for end in start + 1 ... info.rowCount {
                let rows = try gguf.dequantizeRows(info, rows: start ..< end)
                #expect(rows == Array(all[start * n ..< end * n]))
            }
        }
        let raw = try gguf.rawBytes(info, rows: 1 ..< 2)
        #expect(raw.count == info.bytesPerRow)
        #expect(throws: FormatError.self) { try gguf.dequantizeRows(info, rows: 0 ..< info.rowCount + 1) }
    }

    @Test(arguments: types)
    func threadCountDoesNotChangeResults(_ type: GGMLType) throws {
        let gguf = try GGUFFile(url: Fixtures.url("quant/\(type.name).gguf"))
        let info = try gguf.tensor(named: "t")
        let raw = gguf.rawBytes(info)
        // Repeat the tensor's bytes so that the work is split across threads.
        let copies = 64
        var big = [UInt8]()
        for _ in 0 ..< copies { big.append(contentsOf: raw) }
        let count = info.elementCount * copies
        var one = [Float](repeating: .nan, count: count)
        var four = [Float](repeating: .nan, count: count)
        try big.withUnsafeBytes { source in
            try one.withUnsafeMutableBufferPointer {
                try GGMLDequantizer.dequantize(type, from: source, into: $0, threads: 1)
            }
            try four.withUnsafeMutableBufferPointer {
                try GGMLDequantizer.dequantize(type, from: source, into: $0, threads: 4)
            }
        }
        #expect(firstBitMismatch(one, four) == nil)
        let single = try gguf.dequantize(info)
        #expect(firstBitMismatch(Array(four[(count - info.elementCount)...]), single) == nil)
    }

    @Test func sizeMismatchesThrow() throws {
        let bytes = [UInt8](repeating: 0, count: 34)
        var out = [Float](repeating: 0, count: 64)
        bytes.withUnsafeBytes { source in
            out.withUnsafeMutableBufferPointer { dst in
                #expect(throws: FormatError.self) { try GGMLDequantizer.dequantize(.q8_0, from: source, into: dst) }
                #expect(throws: FormatError.self) {
                    try GGMLDequantizer.dequantize(.q8_0, from: source, into: UnsafeMutableBufferPointer(rebasing: dst[0 ..< 31]))
                }
                #expect(throws: FormatError.self) {
                    try GGMLDequantizer.dequantize(.iq2_XXS, from: source, into: dst)
                }
            }
        }
    }
}
