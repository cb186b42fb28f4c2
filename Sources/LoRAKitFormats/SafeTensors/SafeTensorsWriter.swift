import Foundation

/// Writes a safetensors file the way the reference implementation does: tensors laid out by descending dtype
/// then by name, header keys in that order after `__metadata__`, the header padded with spaces to a multiple of
/// 8 bytes. Written to a temporary file and renamed into place.
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("lora_A.weight", shape: [16, 576], values: a)                 // F32
/// try writer.add("lora_B.weight", shape: [576, 16], values: b, as: .bf16)
/// try writer.write(to: url)
/// ```
public struct SafeTensorsWriter {
    enum Payload {
        case floats([Float])
        case raw([UInt8])
    }
    struct Tensor {
        var name: String
        var shape: [Int]
        var dtype: SafeTensorsDType
        var payload: Payload
        var byteCount: Int
    }

    /// The `__metadata__` map (written only when not empty).
    public var metadata: [String: String]
    private(set) var tensors: [String: Tensor] = [:]

    /// Creates an empty writer.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a tensor from `Float`s stored as `.f32`, `.f16` or `.bf16` (round to nearest even).
    /// - Parameter shape: row-major; `values.count` must equal its product (`[]` is a scalar).
    /// - Throws: ``FormatError/invalidArgument(_:)`` for a duplicate name, a shape mismatch or another dtype.
    public mutating func add(_ name: String, shape: [Int], values: [Float], as dtype: SafeTensorsDType = .f32) throws {
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw FormatError.invalidArgument("SafeTensorsWriter converts Floats to F32, F16 or BF16 only, not \(dtype.rawValue)")
        }
        let count = try check(name, shape)
        guard count == values.count else {
            throw FormatError.invalidArgument("tensor '\(name)': shape \(shape) needs \(count) values, got \(values.count)")
        }
        tensors[name] = Tensor(name: name, shape: shape, dtype: dtype, payload: .floats(values),
                               byteCount: count * dtype.byteSize)
    }

    /// Adds a tensor of raw little-endian bytes of any dtype (e.g. I64 token ids).
    public mutating func add(_ name: String, shape: [Int], dtype: SafeTensorsDType, bytes: [UInt8]) throws {
        let count = try check(name, shape)
        guard count * dtype.byteSize == bytes.count else {
            throw FormatError.invalidArgument(
                "tensor '\(name)': \(shape) of \(dtype.rawValue) needs \(count * dtype.byteSize) bytes, got \(bytes.count)")
        }
        tensors[name] = Tensor(name: name, shape: shape, dtype: dtype, payload: .raw(bytes), byteCount: bytes.count)
    }

    private func check(_ name: String, _ shape: [Int]) throws -> Int {
        guard tensors[name] == nil else { throw FormatError.invalidArgument("tensor '\(name)' was added twice") }
        guard name != "__metadata__" else { throw FormatError.invalidArgument("'__metadata__' is not a tensor name") }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError.invalidArgument("tensor '\(name)': shape \(shape) has a negative dimension")
        }
        return shape.reduce(1, *)
    }

    /// Writes the file atomically.
    /// - Throws: ``FormatError/writeFailed(path:reason:)``.
    public func write(to url: URL) throws {
        let ordered = tensors.values.sorted { a, b in
            a.dtype.layoutRank != b.dtype.layoutRank ? a.dtype.layoutRank > b.dtype.layoutRank : a.name < b.name
        }
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { "\(Self.quote($0.key)):\(Self.quote($0.value))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for t in ordered {
            if !first { json += "," }
            first = false
            let shape = t.shape.map(String.init).joined(separator: ",")
            json += "\(Self.quote(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + t.byteCount)]}"
            offset += t.byteCount
        }
        json += "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        let out = try AtomicFileWriter(url: url)
        try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try out.write($0) }
        try out.write(header)
        for t in ordered {
            switch t.payload {
            case let .raw(bytes): try out.write(bytes)
            case let .floats(values):
                let type: GGMLType = t.dtype == .f16 ? .f16 : t.dtype == .bf16 ? .bf16 : .f32
                try FloatEncoding.write(values, as: type, to: out)
            }
        }
        try out.commit()
    }

    /// A JSON string literal as serde_json writes it (non-ASCII kept as UTF-8).
    static func quote(_ s: String) -> String { JSONStringLiteral.quote(s) }
}
