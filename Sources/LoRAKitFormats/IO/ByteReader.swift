/// A bounds-checked little-endian cursor over a byte buffer. Every read checks the remaining length first
/// and throws ``FormatError/truncated(path:what:offset:needed:fileSize:)`` instead of reading past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, path: String, offset: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw FormatError.truncated(path: path, what: what(), offset: offset, needed: count, fileSize: bytes.count)
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, what())
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// Reads a u64 length and checks it against the remaining bytes before converting it to `Int`.
    mutating func readCount(_ what: @autoclosure () -> String, minimumElementSize: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what())
        let perElement = UInt64(max(minimumElementSize, 0))
        let available = UInt64(remaining)
        if perElement > 0, raw > available / perElement {
            throw FormatError.malformed(
                path: path,
                reason: "\(what()) at offset \(start) is \(raw), but only \(remaining) bytes remain in the file")
        }
        return Int(raw)
    }

    /// Reads a GGUF string: u64 byte length then UTF-8 bytes (invalid UTF-8 is repaired with U+FFFD).
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let length = try readCount("length of \(what())", minimumElementSize: 1)
        try require(length, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + length])
        offset += length
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        try require(count, what())
        offset += count
    }

    /// Copies `count` fixed-width little-endian integers in one go.
    mutating func readArray<T: FixedWidthInteger>(_ type: T.Type, count: Int,
                                                 _ what: @autoclosure () -> String) throws -> [T] {
        let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
        guard !overflow else { throw FormatError.malformed(path: path, reason: "\(what()) count \(count) is absurd") }
        try require(bytesNeeded, what())
        let start = offset
        let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let source = UnsafeRawBufferPointer(rebasing: bytes[start ..< start + bytesNeeded])
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            #if _endian(big)
            for i in 0 ..< count { buffer[i] = T(littleEndian: buffer[i]) }
            #endif
            initialized = count
        }
        offset += bytesNeeded
        return result
    }
}
