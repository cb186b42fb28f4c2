/// Streams `Float` values to a file as F32, F16 or BF16 (little-endian), in chunks.
enum FloatEncoding {
    static let chunk = 1 << 16

    static func write(_ values: [Float], as type: GGMLType, to out: AtomicFileWriter) throws {
        switch type {
        case .f32:
            #if _endian(little)
            try values.withUnsafeBytes { try out.write($0) }
            #else
            try writeChunks(values, out) { $0.bitPattern.littleEndian }
            #endif
        case .f16: try writeChunks(values, out) { HalfConversion.half(from: $0).littleEndian }
        case .bf16: try writeChunks(values, out) { HalfConversion.bfloat16(from: $0).littleEndian }
        default:
            preconditionFailure("FloatEncoding.write with \(type); callers allow F32/F16/BF16 only")  // invariant
        }
    }

    private static func writeChunks<T: FixedWidthInteger>(_ values: [Float], _ out: AtomicFileWriter,
                                                          _ convert: (Float) -> T) throws {
        var buffer = [T](repeating: 0, count: chunk)
        var start = 0
        while start < values.count {
            let end = min(start + chunk, values.count)
            for i in start ..< end { buffer[i - start] = convert(values[i]) }
            try buffer.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[0 ..< (end - start) * MemoryLayout<T>.size])) }
            start = end
        }
    }
}
