/// GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies.
///
/// The 188 printable bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves; the other 68 map to
/// U+0100 + n in byte order (so the space 0x20 is `Ġ` U+0120 and the newline 0x0A is `Ċ` U+010A).
enum ByteLevel {
    /// `scalarOfByte[b]` is the character that stands for byte `b` in vocabulary strings.
    static let scalarOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 0
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                // invariant: 256 + extra < 0x180, always a valid scalar.
                table[byte] = Unicode.Scalar(256 + extra)!
                extra += 1
            }
        }
        return table
    }()

    /// Inverse of ``scalarOfByte``: the byte a scalar stands for, or nil when it is not one of the 256.
    static func byte(of scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v < 256 {
            let b = Int(v)
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            return printable ? UInt8(v) : nil
        }
        return v < 256 + 68 ? inverseExtra[Int(v - 256)] : nil
    }

    private static let inverseExtra: [UInt8] = {
        var out = [UInt8](repeating: 0, count: 68)
        for byte in 0..<256 where scalarOfByte[byte].value >= 256 {
            out[Int(scalarOfByte[byte].value - 256)] = UInt8(byte)
        }
        return out
    }()

    /// Decodes a vocabulary string to raw bytes; nil if any character is not a byte character.
    static func bytes(ofToken token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let b = byte(of: scalar) else { return nil }
            out.append(b)
        }
        return out
    }

    /// Encodes raw bytes as a vocabulary string.
    static func token(ofBytes bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarOfByte[Int(b)]) }
        return String(s)
    }
}
