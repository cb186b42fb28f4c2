/// Every problem LoRAKitFormats reports: a bad or truncated file, an unsupported tensor type, a missing field.
///
/// Each message is one line that names the file and the problem, and where possible how to fix it.
/// Readers never crash or allocate huge buffers on hostile input; they throw one of these instead.
public enum FormatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or mapped (missing, a directory, no permission).
    case cannotOpen(path: String, reason: String)
    /// The file ends before a structure it announces (`what`) is complete.
    case truncated(path: String, what: String, offset: Int, needed: Int, fileSize: Int)
    /// The first bytes are not the format's magic.
    case badMagic(path: String, expected: String, found: String)
    /// A GGUF version this reader does not understand.
    case unsupportedVersion(path: String, version: UInt32)
    /// The file is structurally invalid (absurd count, overlapping tensors, bad JSON, …).
    case malformed(path: String, reason: String)
    /// A GGUF tensor uses a type number that ggml does not define (or that this version does not know).
    case unknownTensorType(path: String, tensor: String, rawValue: UInt32)
    /// A tensor type that is known but cannot be converted to `Float` by this library.
    case unsupportedTensorType(path: String, tensor: String, type: String)
    /// No tensor with this name.
    case tensorNotFound(path: String, name: String)
    /// A metadata key exists but holds a different type than requested.
    case metadataTypeMismatch(path: String, key: String, expected: String, found: String)
    /// A metadata key that is required is absent.
    case missingMetadata(path: String, key: String)
    /// A required field of a JSON configuration is absent.
    case missingField(path: String, field: String)
    /// A configuration file is not valid (wrong JSON type, bad value).
    case invalidConfig(path: String, reason: String)
    /// A caller's destination buffer does not have the size the tensor needs.
    case bufferSizeMismatch(tensor: String, expected: Int, got: Int)
    /// An argument passed to a writer or reader is invalid (bad shape, duplicate name, …).
    case invalidArgument(String)
    /// Writing a file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open: \(reason)"
        case let .truncated(path, what, offset, needed, fileSize):
            return "\(path): file is truncated: \(what) needs \(needed) bytes at offset \(offset) but the file has "
                + "\(fileSize) bytes (hint: re-download the file)"
        case let .badMagic(path, expected, found):
            return "\(path): not a \(expected) file (first bytes are \(found))"
        case let .unsupportedVersion(path, version):
            let hint = version > 0xFFFF ? " (looks like a big-endian file, which is not supported)" : ""
            return "\(path): unsupported GGUF version \(version); versions 2 and 3 are supported\(hint)"
        case let .malformed(path, reason):
            return "\(path): malformed file: \(reason)"
        case let .unknownTensorType(path, tensor, rawValue):
            return "\(path): tensor '\(tensor)' has unknown ggml type number \(rawValue) "
                + "(hint: the file may be newer than this LoRAKit)"
        case let .unsupportedTensorType(path, tensor, type):
            return "\(path): tensor '\(tensor)' has type \(type), which LoRAKit cannot dequantize; supported: "
                + GGMLType.dequantizable.map(\.name).joined(separator: ", ")
        case let .tensorNotFound(path, name):
            return "\(path): no tensor named '\(name)'"
        case let .metadataTypeMismatch(path, key, expected, found):
            return "\(path): metadata '\(key)' is \(found), expected \(expected)"
        case let .missingMetadata(path, key):
            return "\(path): required metadata '\(key)' is missing"
        case let .missingField(path, field):
            return "\(path): required field '\(field)' is missing"
        case let .invalidConfig(path, reason):
            return "\(path): invalid configuration: \(reason)"
        case let .bufferSizeMismatch(tensor, expected, got):
            return "tensor '\(tensor)' has \(expected) elements but the destination buffer holds \(got)"
        case let .invalidArgument(message):
            return message
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
