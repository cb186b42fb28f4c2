/// Tensor data access: dequantize to `Float` (whole tensor or a range of rows) and raw block bytes.
extension GGUFFile {
    /// The tensor's stored bytes (blocks exactly as in the file), valid while this `GGUFFile` is alive.
    ///
    /// For quantized matmuls: row `r` of a 2-D tensor starts at `r * info.bytesPerRow` and holds
    /// `info.rowLength / info.type.blockSize` blocks of `info.type.bytesPerBlock` bytes.
    public func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        // invariant: `info` offsets were validated against the file size at open
        UnsafeRawBufferPointer(rebasing: file.bytes[info.fileOffset ..< info.fileOffset + info.byteCount])
    }

    /// The stored bytes of rows `rows` of a tensor (see ``rawBytes(_:)``).
    /// - Throws: ``FormatError/invalidArgument(_:)`` if the range is outside `0..<info.rowCount`.
    public func rawBytes(_ info: GGUFTensorInfo, rows: Range<Int>) throws -> UnsafeRawBufferPointer {
        try checkRows(info, rows)
        let start = info.fileOffset + rows.lowerBound * info.bytesPerRow
        return UnsafeRawBufferPointer(rebasing: file.bytes[start ..< start + rows.count * info.bytesPerRow])
    }

    /// Dequantizes a whole tensor to `Float`, in row-major order (`info.shape`).
    /// - Throws: ``FormatError/unsupportedTensorType(path:tensor:type:)`` for types without a kernel.
    public func dequantize(_ info: GGUFTensorInfo, threads: Int? = nil) throws -> [Float] {
        try checkDequantizable(info)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try dequantize(info, into: buffer, threads: threads)
            initialized = info.elementCount
        }
    }

    /// Dequantizes the tensor called `name` (see ``dequantize(_:threads:)``).
    public func dequantize(_ name: String, threads: Int? = nil) throws -> [Float] {
        try dequantize(try tensor(named: name), threads: threads)
    }

    /// Dequantizes a whole tensor into `destination`, which must hold exactly `info.elementCount` Floats.
    public func dequantize(_ info: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>,
                           threads: Int? = nil) throws {
        try checkDequantizable(info)
        guard destination.count == info.elementCount else {
            throw FormatError.bufferSizeMismatch(tensor: info.name, expected: info.elementCount, got: destination.count)
        }
        try GGMLDequantizer.dequantize(info.type, from: rawBytes(info), into: destination, threads: threads)
    }

    /// Dequantizes rows `rows` of a tensor viewed as `[info.rowCount, info.rowLength]` into `destination`,
    /// which must hold `rows.count * info.rowLength` Floats. Meant for decode kernels and embedding lookups.
    /// Runs on the calling thread unless the range is large.
    public func dequantizeRows(_ info: GGUFTensorInfo, rows: Range<Int>,
                               into destination: UnsafeMutableBufferPointer<Float>,
                               threads: Int? = nil) throws {
        try checkDequantizable(info)
        let expected = rows.count * info.rowLength
        guard destination.count == expected else {
            throw FormatError.bufferSizeMismatch(tensor: info.name, expected: expected, got: destination.count)
        }
        try GGMLDequantizer.dequantize(info.type, from: rawBytes(info, rows: rows), into: destination,
                                       threads: threads)
    }

    /// Rows `rows` of a tensor as a new array (see ``dequantizeRows(_:rows:into:threads:)``).
    public func dequantizeRows(_ info: GGUFTensorInfo, rows: Range<Int>) throws -> [Float] {
        let count = rows.count * info.rowLength
        try checkRows(info, rows)
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try dequantizeRows(info, rows: rows, into: buffer)
            initialized = count
        }
    }

    private func checkDequantizable(_ info: GGUFTensorInfo) throws {
        guard info.type.canDequantize else {
            throw FormatError.unsupportedTensorType(path: path, tensor: info.name, type: info.type.description)
        }
    }

    private func checkRows(_ info: GGUFTensorInfo, _ rows: Range<Int>) throws {
        guard rows.lowerBound >= 0, rows.upperBound <= info.rowCount else {
            throw FormatError.invalidArgument(
                "rows \(rows) are outside tensor '\(info.name)' with \(info.rowCount) rows (\(path))")
        }
    }
}
