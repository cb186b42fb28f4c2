import Foundation

/// Writes a GGUF v3 file: metadata of every value type, and tensors stored as F32, F16 or BF16 (converted from
/// `Float`) or as raw blocks of any ggml type. The file is written to a temporary file and renamed into place.
///
/// Shapes are row-major (`[rows, cols]`), as ``GGUFTensorInfo/shape``; the writer reverses them into GGUF's
/// fastest-first order.
/// ```swift
/// var writer = GGUFWriter()
/// writer.setValue(.string("llama"), forKey: "general.architecture")
/// try writer.addTensor("output_norm.weight", shape: [576], values: norm)            // F32
/// try writer.addTensor("blk.0.attn_q.weight", shape: [576, 576], values: q, type: .f16)
/// try writer.write(to: url)
/// ```
public struct GGUFWriter {
    enum Payload {
        case floats([Float])
        case raw([UInt8])
    }
    struct Tensor {
        var name: String
        var shape: [Int]
        var type: GGMLType
        var payload: Payload
        var byteCount: Int
    }

    /// Data alignment in bytes (a power of two). When it is not 32, `general.alignment` is written.
    public var alignment: Int
    private(set) var entries: [(key: String, value: GGUFValue)] = []
    private(set) var tensors: [Tensor] = []
    private var tensorNames: Set<String> = []

    /// Creates an empty writer.
    public init(alignment: Int = GGUFFile.defaultAlignment) {
        self.alignment = alignment
    }

    /// Sets a metadata value, keeping the position of an existing key.
    public mutating func setValue(_ value: GGUFValue, forKey key: String) {
        if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = value
        } else {
            entries.append((key, value))
        }
    }

    /// Copies every metadata entry of `metadata` (e.g. from a ``GGUFFile``) in order.
    public mutating func setValues(from metadata: GGUFMetadata) {
        for (key, value) in metadata.entries { setValue(value, forKey: key) }
    }

    /// Adds a tensor from `Float`s, stored as `type` (`.f32`, `.f16` or `.bf16`; rounding to nearest even).
    /// - Parameters:
    ///   - shape: row-major shape; `values.count` must equal its product.
    /// - Throws: ``FormatError/invalidArgument(_:)`` for a duplicate name, a shape mismatch or another type.
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float], type: GGMLType = .f32) throws {
        guard [.f32, .f16, .bf16].contains(type) else {
            throw FormatError.invalidArgument("GGUFWriter converts Floats to F32, F16 or BF16 only, not \(type.name)")
        }
        let count = try checkShape(name, shape, type: type)
        guard count == values.count else {
            throw FormatError.invalidArgument("tensor '\(name)': shape \(shape) needs \(count) values, got \(values.count)")
        }
        try add(Tensor(name: name, shape: shape, type: type, payload: .floats(values),
                       byteCount: count * type.bytesPerBlock))
    }

    /// Adds a tensor of already-encoded blocks (any ggml type, e.g. copied from another GGUF file).
    /// - Throws: ``FormatError/invalidArgument(_:)`` if `bytes.count` does not match the shape and type.
    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) throws {
        let count = try checkShape(name, shape, type: type)
        guard let expected = type.byteCount(elements: count), expected == bytes.count else {
            throw FormatError.invalidArgument(
                "tensor '\(name)': \(shape) of \(type.name) needs \(type.byteCount(elements: count) ?? -1) bytes, "
                    + "got \(bytes.count)")
        }
        try add(Tensor(name: name, shape: shape, type: type, payload: .raw(bytes), byteCount: bytes.count))
    }

    private mutating func add(_ tensor: Tensor) throws {
        guard !tensorNames.contains(tensor.name) else {
            throw FormatError.invalidArgument("tensor '\(tensor.name)' was added twice")
        }
        tensorNames.insert(tensor.name)
        tensors.append(tensor)
    }

    private func checkShape(_ name: String, _ shape: [Int], type: GGMLType) throws -> Int {
        guard shape.count <= GGUFFile.maximumDimensions, shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError.invalidArgument("tensor '\(name)': shape \(shape) must have at most 4 non-negative dimensions")
        }
        guard (shape.last ?? 1) % type.blockSize == 0 else {
            throw FormatError.invalidArgument(
                "tensor '\(name)': rows of \(shape.last ?? 1) are not whole \(type.name) blocks of \(type.blockSize)")
        }
        return shape.reduce(1, *)
    }

    /// Writes the file atomically (temporary file + rename).
    /// - Throws: ``FormatError/writeFailed(path:reason:)`` or ``FormatError/invalidArgument(_:)`` for a bad alignment.
    public func write(to url: URL) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw FormatError.invalidArgument("GGUF alignment \(alignment) is not a power of two")
        }
        var entries = self.entries
        if let existing = entries.first(where: { $0.key == "general.alignment" }) {
            guard existing.value.intValue == alignment else {
                throw FormatError.invalidArgument(
                    "metadata general.alignment \(existing.value.summary) differs from the writer's alignment \(alignment)")
            }
        } else if alignment != GGUFFile.defaultAlignment {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        var header = GGUFEncoder()
        header.bytes += Array("GGUF".utf8)
        header.u32(3)
        header.u64(UInt64(tensors.count))
        header.u64(UInt64(entries.count))
        for (key, value) in entries {
            header.string(key)
            header.u32(value.type.rawValue)
            header.value(value)
        }
        var offset = 0
        var offsets = [Int]()
        for tensor in tensors {
            header.string(tensor.name)
            header.u32(UInt32(tensor.shape.count))
            for d in tensor.shape.reversed() { header.u64(UInt64(d)) }
            header.u32(tensor.type.rawValue)
            header.u64(UInt64(offset))
            offsets.append(offset)
            offset += padded(tensor.byteCount)
        }

        let out = try AtomicFileWriter(url: url)
        try out.write(header.bytes)
        try out.writeZeros(padded(header.bytes.count) - header.bytes.count)
        for tensor in tensors {
            switch tensor.payload {
            case let .raw(bytes): try out.write(bytes)
            case let .floats(values): try FloatEncoding.write(values, as: tensor.type, to: out)
            }
            try out.writeZeros(padded(tensor.byteCount) - tensor.byteCount)
        }
        try out.commit()
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// Little-endian encoder for GGUF header structures.
struct GGUFEncoder {
    var bytes = [UInt8]()
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }

    mutating func value(_ value: GGUFValue) {
        switch value {
        case let .uint8(v): u8(v)
        case let .int8(v): u8(UInt8(bitPattern: v))
        case let .uint16(v): u16(v)
        case let .int16(v): u16(UInt16(bitPattern: v))
        case let .uint32(v): u32(v)
        case let .int32(v): u32(UInt32(bitPattern: v))
        case let .uint64(v): u64(v)
        case let .int64(v): u64(UInt64(bitPattern: v))
        case let .float32(v): u32(v.bitPattern)
        case let .float64(v): u64(v.bitPattern)
        case let .bool(v): u8(v ? 1 : 0)
        case let .string(v): string(v)
        case let .array(a): array(a)
        }
    }

    /// Element type, count, then the elements (nested arrays repeat this without a per-element type tag).
    mutating func array(_ array: GGUFArray) {
        u32(array.elementType.rawValue)
        u64(UInt64(array.count))
        switch array {
        case let .uint8(a): bytes += a
        case let .int8(a): a.forEach { u8(UInt8(bitPattern: $0)) }
        case let .uint16(a): a.forEach { u16($0) }
        case let .int16(a): a.forEach { u16(UInt16(bitPattern: $0)) }
        case let .uint32(a): a.forEach { u32($0) }
        case let .int32(a): a.forEach { u32(UInt32(bitPattern: $0)) }
        case let .uint64(a): a.forEach { u64($0) }
        case let .int64(a): a.forEach { u64(UInt64(bitPattern: $0)) }
        case let .float32(a): a.forEach { u32($0.bitPattern) }
        case let .float64(a): a.forEach { u64($0.bitPattern) }
        case let .bool(a): a.forEach { u8($0 ? 1 : 0) }
        case let .string(a): a.forEach { string($0) }
        case let .array(a): a.forEach { self.array($0) }
        }
    }
}
