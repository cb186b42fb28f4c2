import Foundation

/// A GGUF (v2 or v3) model file, memory-mapped read-only.
///
/// Opening parses the header, metadata and tensor table and validates every tensor's placement; tensor data is
/// not touched until you ask for it (``dequantize(_:)``, ``rawBytes(_:)``), and never copied unless you ask for
/// `Float`s. Keep the `GGUFFile` alive while you use pointers obtained from it.
/// ```swift
/// let gguf = try GGUFFile(url: url)
/// gguf.metadata.string("general.architecture")          // "llama"
/// let q = try gguf.tensor(named: "blk.0.attn_q.weight")  // shape [576, 576], type Q4_1
/// let w = try gguf.dequantize(q)                          // 331776 Floats, row-major
/// ```
/// - Throws: ``FormatError`` for anything wrong with the file (truncated, bad magic, absurd counts, tensors out
///   of range or overlapping, unknown types).
public final class GGUFFile: @unchecked Sendable {  // invariant: immutable after init
    /// The ASCII magic `GGUF` read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    /// Alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// ggml's limit on the number of dimensions.
    static let maximumDimensions = 4
    /// Metadata arrays nest at most this deep (a guard against stack exhaustion on hostile files).
    static let maximumArrayNesting = 8

    /// The file's location.
    public let url: URL
    /// GGUF version (2 or 3).
    public let version: UInt32
    /// Metadata in file order, with typed accessors.
    public let metadata: GGUFMetadata
    /// Tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// Data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int

    let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Opens and validates a GGUF file.
    /// - Throws: ``FormatError``.
    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        self.file = file
        let path = file.path
        var reader = ByteReader(file.bytes, path: path)

        guard file.size >= 4 else {
            throw FormatError.badMagic(path: path, expected: "GGUF", found: Self.describe(file.bytes.prefix(4)))
        }
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == Self.magic else {
            throw FormatError.badMagic(path: path, expected: "GGUF", found: Self.describe(file.bytes.prefix(4)))
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw FormatError.unsupportedVersion(path: path, version: version) }
        self.version = version

        // Minimum encoded sizes bound the counts by the bytes left, so an absurd count fails before allocating.
        let tensorCount = try reader.readCount("tensor count", minimumElementSize: 8 + 4 + 4 + 8)
        let kvCount = try reader.readCount("metadata entry count", minimumElementSize: 8 + 4 + 1)

        var entries = [(key: String, value: GGUFValue)]()
        entries.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            let key = try reader.readString("metadata key #\(i)")
            let rawType = try reader.read(UInt32.self, "type of metadata '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw FormatError.malformed(path: path, reason: "metadata '\(key)' has unknown value type \(rawType)")
            }
            let value = try Self.readValue(type, key: key, reader: &reader, depth: 0)
            entries.append((key, value))
        }
        let metadata = GGUFMetadata(entries: entries, path: path)
        self.metadata = metadata

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw FormatError.malformed(path: path,
                                            reason: "general.alignment is \(value.summary), not a power of two")
            }
            alignment = a
        }
        self.alignment = alignment

        struct RawInfo { var name: String; var dims: [Int]; var type: GGMLType; var offset: UInt64 }
        var raw = [RawInfo]()
        raw.reserveCapacity(tensorCount)
        for i in 0 ..< tensorCount {
            let name = try reader.readString("name of tensor #\(i)")
            let nDims = try reader.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard nDims <= Self.maximumDimensions else {
                throw FormatError.malformed(path: path, reason: "tensor '\(name)' has \(nDims) dimensions (max 4)")
            }
            var dims = [Int]()
            for d in 0 ..< Int(nDims) {
                let n = try reader.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard n < 1 << 48 else {
                    throw FormatError.malformed(path: path, reason: "tensor '\(name)' dimension \(d) is \(n)")
                }
                dims.append(Int(n))
            }
            let rawType = try reader.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw FormatError.unknownTensorType(path: path, tensor: name, rawValue: rawType)
            }
            let offset = try reader.read(UInt64.self, "data offset of tensor '\(name)'")
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: offset))
        }

        let headerEnd = reader.offset
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset

        var infos = [GGUFTensorInfo]()
        infos.reserveCapacity(raw.count)
        var index = [String: Int](minimumCapacity: raw.count)
        for r in raw {
            guard index[r.name] == nil else {
                throw FormatError.malformed(path: path, reason: "tensor name '\(r.name)' appears twice")
            }
            var elements = 1
            for d in r.dims {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product < 1 << 48 else {
                    throw FormatError.malformed(path: path, reason: "tensor '\(r.name)' has absurd dimensions \(r.dims)")
                }
                elements = product
            }
            let rowLength = r.dims.first ?? 1
            guard rowLength % r.type.blockSize == 0, let bytes = r.type.byteCount(elements: elements) else {
                throw FormatError.malformed(
                    path: path,
                    reason: "tensor '\(r.name)' rows of \(rowLength) elements are not whole \(r.type.name) blocks "
                        + "of \(r.type.blockSize)")
            }
            guard r.offset % UInt64(alignment) == 0 else {
                throw FormatError.malformed(path: path,
                                            reason: "tensor '\(r.name)' data offset \(r.offset) is not aligned to \(alignment)")
            }
            let available = UInt64(max(file.size - dataOffset, 0))
            guard r.offset <= available, UInt64(bytes) <= available - r.offset else {
                throw FormatError.truncated(path: path, what: "data of tensor '\(r.name)'",
                                            offset: dataOffset + Int(min(r.offset, UInt64(Int.max / 2))),
                                            needed: bytes, fileSize: file.size)
            }
            index[r.name] = infos.count
            infos.append(GGUFTensorInfo(name: r.name, shape: r.dims.reversed(), type: r.type,
                                        relativeOffset: Int(r.offset), fileOffset: dataOffset + Int(r.offset),
                                        byteCount: bytes, elementCount: elements))
        }
        // Tensor data must not overlap.
        let byOffset = infos.sorted { $0.relativeOffset < $1.relativeOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.relativeOffset + a.byteCount > b.relativeOffset {
            throw FormatError.malformed(path: path, reason: "data of tensors '\(a.name)' and '\(b.name)' overlap")
        }
        self.tensors = infos
        self.tensorIndex = index
    }

    /// The file path, for messages.
    public var path: String { file.path }

    /// The tensor called `name`.
    /// - Throws: ``FormatError/tensorNotFound(path:name:)``.
    public func tensor(named name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw FormatError.tensorNotFound(path: path, name: name) }
        return tensors[i]
    }

    /// Whether a tensor called `name` exists.
    public func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    // MARK: Parsing helpers

    static func describe(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        let hex = bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
        return hex.isEmpty ? "none: the file is empty" : hex
    }

    static func readValue(_ type: GGUFValueType, key: String, reader: inout ByteReader, depth: Int) throws -> GGUFValue {
        let what = "value of metadata '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, what))
        case .int8: return .int8(try reader.read(Int8.self, what))
        case .uint16: return .uint16(try reader.read(UInt16.self, what))
        case .int16: return .int16(try reader.read(Int16.self, what))
        case .uint32: return .uint32(try reader.read(UInt32.self, what))
        case .int32: return .int32(try reader.read(Int32.self, what))
        case .uint64: return .uint64(try reader.read(UInt64.self, what))
        case .int64: return .int64(try reader.read(Int64.self, what))
        case .float32: return .float32(try reader.readFloat(what))
        case .float64: return .float64(try reader.readDouble(what))
        case .bool: return .bool(try readBool(key: key, reader: &reader))
        case .string: return .string(try reader.readString(what))
        case .array: return .array(try readArray(key: key, reader: &reader, depth: depth))
        }
    }

    static func readBool(key: String, reader: inout ByteReader) throws -> Bool {
        let byte = try reader.read(UInt8.self, "value of metadata '\(key)'")
        guard byte <= 1 else {
            throw FormatError.malformed(path: reader.path, reason: "metadata '\(key)' has bool value \(byte)")
        }
        return byte == 1
    }

    static func readArray(key: String, reader: inout ByteReader, depth: Int) throws -> GGUFArray {
        guard depth < maximumArrayNesting else {
            throw FormatError.malformed(path: reader.path, reason: "metadata '\(key)' nests arrays too deeply")
        }
        let rawType = try reader.read(UInt32.self, "element type of metadata '\(key)'")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw FormatError.malformed(path: reader.path,
                                        reason: "metadata array '\(key)' has unknown element type \(rawType)")
        }
        let count = try reader.readCount("element count of metadata array '\(key)'",
                                         minimumElementSize: type.minimumEncodedSize)
        let what = "elements of metadata array '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.readArray(UInt8.self, count: count, what))
        case .int8: return .int8(try reader.readArray(Int8.self, count: count, what))
        case .uint16: return .uint16(try reader.readArray(UInt16.self, count: count, what))
        case .int16: return .int16(try reader.readArray(Int16.self, count: count, what))
        case .uint32: return .uint32(try reader.readArray(UInt32.self, count: count, what))
        case .int32: return .int32(try reader.readArray(Int32.self, count: count, what))
        case .uint64: return .uint64(try reader.readArray(UInt64.self, count: count, what))
        case .int64: return .int64(try reader.readArray(Int64.self, count: count, what))
        case .float32: return .float32(try reader.readArray(UInt32.self, count: count, what).map(Float.init(bitPattern:)))
        case .float64: return .float64(try reader.readArray(UInt64.self, count: count, what).map(Double.init(bitPattern:)))
        case .bool:
            var values = [Bool]()
            values.reserveCapacity(count)
            for _ in 0 ..< count { values.append(try readBool(key: key, reader: &reader)) }
            return .bool(values)
        case .string:
            var values = [String]()
            values.reserveCapacity(count)
            for i in 0 ..< count { values.append(try reader.readString("element \(i) of metadata array '\(key)'")) }
            return .string(values)
        case .array:
            var values = [GGUFArray]()
            values.reserveCapacity(count)
            for _ in 0 ..< count { values.append(try readArray(key: key, reader: &reader, depth: depth + 1)) }
            return .array(values)
        }
    }
}
