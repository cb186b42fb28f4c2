import Foundation

/// A safetensors file, memory-mapped read-only: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {string: string}}`), then the data.
///
/// ```swift
/// let st = try SafeTensorsFile(url: url)
/// let a = try st.floats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")  // [r × in] Floats
/// st.metadata["format"]                                                                    // "pt"
/// ```
/// - Throws: ``FormatError`` for truncated files, bad JSON, unknown dtypes, tensors out of range or overlapping.
public final class SafeTensorsFile: @unchecked Sendable {  // invariant: immutable after init
    /// The reference implementation refuses headers above 100 MB; so do we.
    public static let maximumHeaderSize = 100_000_000

    /// The file's location.
    public let url: URL
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Tensors in data order.
    public let tensors: [SafeTensorsTensorInfo]
    /// Absolute offset of the data section (8 + header length).
    public let dataOffset: Int

    let file: MappedFile
    private let index: [String: Int]

    private struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The header as decoded: metadata and entries by name.
    private struct Header: Decodable {
        var metadata: [String: String] = [:]
        var entries: [(String, Entry)] = []
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
                }
            }
        }
    }

    /// Opens and validates a safetensors file.
    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        self.file = file
        let path = file.path
        var reader = ByteReader(file.bytes, path: path)
        let rawLength = try reader.read(UInt64.self, "header length")
        guard rawLength <= UInt64(Self.maximumHeaderSize) else {
            throw FormatError.malformed(path: path, reason: "header length \(rawLength) exceeds 100 MB "
                                            + "(hint: is this a safetensors file?)")
        }
        let headerLength = Int(rawLength)
        try reader.require(headerLength, "JSON header")
        let dataOffset = 8 + headerLength
        self.dataOffset = dataOffset
        let headerBytes = UnsafeRawBufferPointer(rebasing: file.bytes[8 ..< dataOffset])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw FormatError.malformed(path: path, reason: "header does not start with '{' (hint: is this a safetensors file?)")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw FormatError.malformed(path: path, reason: "invalid JSON header: \(Self.summarize(error))")
        }
        metadata = header.metadata

        let dataSize = file.size - dataOffset
        var infos = [SafeTensorsTensorInfo]()
        for (name, entry) in header.entries {
            guard let dtype = SafeTensorsDType(rawValue: entry.dtype) else {
                throw FormatError.malformed(path: path, reason: "tensor '\(name)' has unknown dtype '\(entry.dtype)'")
            }
            guard entry.data_offsets.count == 2, entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw FormatError.malformed(path: path, reason: "tensor '\(name)' has an invalid shape or data_offsets")
            }
            let begin = entry.data_offsets[0], end = entry.data_offsets[1]
            guard begin >= 0, begin <= end else {
                throw FormatError.malformed(path: path, reason: "tensor '\(name)' has data_offsets [\(begin), \(end)]")
            }
            guard end <= dataSize else {
                throw FormatError.truncated(path: path, what: "data of tensor '\(name)'", offset: dataOffset + begin,
                                            needed: end - begin, fileSize: file.size)
            }
            var elements = 1
            for d in entry.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw FormatError.malformed(path: path, reason: "tensor '\(name)' has absurd shape \(entry.shape)")
                }
                elements = p
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw FormatError.malformed(
                    path: path, reason: "tensor '\(name)' \(dtype.rawValue) \(entry.shape) needs \(elements) × "
                        + "\(dtype.byteSize) bytes but data_offsets span \(end - begin)")
            }
            infos.append(SafeTensorsTensorInfo(name: name, dtype: dtype, shape: entry.shape, dataOffsets: begin ..< end,
                                               fileOffset: dataOffset + begin))
        }
        infos.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
            < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        for (a, b) in zip(infos, infos.dropFirst()) where a.dataOffsets.upperBound > b.dataOffsets.lowerBound {
            throw FormatError.malformed(path: path, reason: "data of tensors '\(a.name)' and '\(b.name)' overlap")
        }
        tensors = infos
        index = Dictionary(infos.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The file path, for messages.
    public var path: String { file.path }

    /// The tensor called `name`.
    /// - Throws: ``FormatError/tensorNotFound(path:name:)``.
    public func tensor(named name: String) throws -> SafeTensorsTensorInfo {
        guard let i = index[name] else { throw FormatError.tensorNotFound(path: path, name: name) }
        return tensors[i]
    }

    /// Whether a tensor called `name` exists.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The stored bytes of a tensor (little-endian), valid while this object is alive.
    public func rawBytes(_ info: SafeTensorsTensorInfo) -> UnsafeRawBufferPointer {
        // invariant: offsets were validated against the file size at open
        UnsafeRawBufferPointer(rebasing: file.bytes[info.fileOffset ..< info.fileOffset + info.byteCount])
    }

    /// The tensor's values as `Float` (F32, F16, BF16, F64), row-major.
    /// - Throws: ``FormatError/unsupportedTensorType(path:tensor:type:)`` for integer and F8 types.
    public func floats(_ name: String) throws -> [Float] { try floats(try tensor(named: name)) }

    /// The tensor's values as `Float` (see ``floats(_:)-(String)``).
    public func floats(_ info: SafeTensorsTensorInfo) throws -> [Float] {
        try checkFloat(info)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try floats(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Converts the tensor into `destination`, which must hold exactly `info.elementCount` Floats.
    public func floats(_ info: SafeTensorsTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try checkFloat(info)
        guard destination.count == info.elementCount else {
            throw FormatError.bufferSizeMismatch(tensor: info.name, expected: info.elementCount, got: destination.count)
        }
        let source = rawBytes(info)
        switch info.dtype {
        case .f32: try GGMLDequantizer.dequantize(.f32, from: source, into: destination)
        case .f16: try GGMLDequantizer.dequantize(.f16, from: source, into: destination)
        case .bf16: try GGMLDequantizer.dequantize(.bf16, from: source, into: destination)
        default:  // .f64
            for i in 0 ..< info.elementCount {
                destination[i] = Float(Double(bitPattern: UInt64(littleEndian:
                    source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        }
    }

    /// The tensor's values as `Int` (I64, I32, I16, I8, U8, U16, U32, BOOL; U64 values above `Int.max` throw).
    public func integers(_ name: String) throws -> [Int] {
        let info = try tensor(named: name)
        let source = rawBytes(info)
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int] {
            (0 ..< info.elementCount).map {
                Int(truncatingIfNeeded: T(littleEndian: source.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)))
            }
        }
        switch info.dtype {
        case .i64: return load(Int64.self)
        case .i32: return load(Int32.self)
        case .i16: return load(Int16.self)
        case .i8: return load(Int8.self)
        case .u8, .bool: return load(UInt8.self)
        case .u16: return load(UInt16.self)
        case .u32: return load(UInt32.self)
        case .u64:
            let values = (0 ..< info.elementCount).map {
                UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))
            }
            guard values.allSatisfy({ $0 <= UInt64(Int.max) }) else {
                throw FormatError.malformed(path: path, reason: "tensor '\(name)' has U64 values above Int.max")
            }
            return values.map { Int($0) }
        default:
            throw FormatError.unsupportedTensorType(path: path, tensor: name, type: info.dtype.rawValue)
        }
    }

    private func checkFloat(_ info: SafeTensorsTensorInfo) throws {
        guard info.dtype.isConvertibleToFloat else {
            throw FormatError.unsupportedTensorType(path: path, tensor: info.name, type: info.dtype.rawValue)
        }
    }

    /// One line from a DecodingError.
    static func summarize(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context),
             let .dataCorrupted(context):
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            return at.isEmpty ? context.debugDescription : "at '\(at)': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
