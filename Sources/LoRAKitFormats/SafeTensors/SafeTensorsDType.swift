/// Element types of the safetensors format (the `dtype` strings of the header).
public enum SafeTensorsDType: String, CaseIterable, Sendable, Codable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3", i16 = "I16", u16 = "U16"
    case f16 = "F16", bf16 = "BF16", i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// Whether ``SafeTensorsFile/floats(_:)`` converts this type.
    public var isConvertibleToFloat: Bool { [.f32, .f16, .bf16, .f64].contains(self) }

    /// Order of the reference implementation's `Dtype` enum; its writer lays tensors out by descending rank, then
    /// by name, and so do we.
    var layoutRank: Int {
        switch self {
        case .bool: return 0
        case .u8: return 1
        case .i8: return 2
        case .f8E5M2: return 3
        case .f8E4M3: return 4
        case .i16: return 5
        case .u16: return 6
        case .f16: return 7
        case .bf16: return 8
        case .i32: return 9
        case .u32: return 10
        case .f32: return 11
        case .f64: return 12
        case .i64: return 13
        case .u64: return 14
        }
    }
}

/// One tensor of a safetensors file.
public struct SafeTensorsTensorInfo: Sendable, Equatable, CustomStringConvertible {
    /// Tensor name (e.g. `"model.layers.0.self_attn.q_proj.weight"`).
    public let name: String
    /// Element type.
    public let dtype: SafeTensorsDType
    /// Row-major shape (`[]` for a scalar).
    public let shape: [Int]
    /// Byte range relative to the start of the data section (the header's `data_offsets`).
    public let dataOffsets: Range<Int>
    /// Absolute byte offset in the file.
    public let fileOffset: Int
    /// Number of elements (product of ``shape``; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of data.
    public var byteCount: Int { dataOffsets.count }

    public var description: String { "\(name) \(dtype.rawValue) \(shape)" }
}
