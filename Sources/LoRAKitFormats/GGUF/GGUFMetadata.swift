/// The key/value metadata of a GGUF file, in file order, with typed accessors.
///
/// Accessors return `nil` when a key is absent or holds another type; the `require…` variants throw a
/// ``FormatError`` that names the file and the key instead.
/// ```swift
/// let arch = try gguf.metadata.requireString("general.architecture")      // "llama"
/// let layers = gguf.metadata.int("\(arch).block_count")                    // 30
/// let tokens = gguf.metadata.stringArray("tokenizer.ggml.tokens")          // 49152 strings
/// ```
public struct GGUFMetadata: Sendable {
    /// Entries in file order.
    public let entries: [(key: String, value: GGUFValue)]
    private let index: [String: Int]
    /// The file path used in error messages.
    public let path: String

    init(entries: [(key: String, value: GGUFValue)], path: String) {
        self.entries = entries
        self.path = path
        var index = [String: Int](minimumCapacity: entries.count)
        for (i, entry) in entries.enumerated() { index[entry.key] = i }  // a repeated key: the last one wins
        self.index = index
    }

    /// All keys in file order.
    public var keys: [String] { entries.map(\.key) }
    /// Number of entries.
    public var count: Int { entries.count }

    /// The raw value for `key`.
    public subscript(key: String) -> GGUFValue? { index[key].map { entries[$0].value } }

    /// A string value.
    public func string(_ key: String) -> String? {
        if case let .string(s)? = self[key] { return s }
        return nil
    }

    /// Any integer value (uint8 … int64) as `Int`.
    public func int(_ key: String) -> Int? { self[key]?.intValue }

    /// A float32/float64 (or integer) value as `Float`.
    public func float(_ key: String) -> Float? { self[key]?.doubleValue.map(Float.init) }

    /// A float32/float64 (or integer) value as `Double`.
    public func double(_ key: String) -> Double? { self[key]?.doubleValue }

    /// A bool value.
    public func bool(_ key: String) -> Bool? {
        if case let .bool(b)? = self[key] { return b }
        return nil
    }

    /// An array value.
    public func array(_ key: String) -> GGUFArray? {
        if case let .array(a)? = self[key] { return a }
        return nil
    }

    /// An array of strings.
    public func stringArray(_ key: String) -> [String]? {
        if case let .string(a)? = array(key) { return a }
        return nil
    }

    /// An array of integers (any width) as `[Int]`.
    public func intArray(_ key: String) -> [Int]? { array(key)?.intValues }

    /// An array of floats (or integers) as `[Float]`.
    public func floatArray(_ key: String) -> [Float]? { array(key)?.floatValues }

    // MARK: Throwing variants

    private func lookup(_ key: String) throws -> GGUFValue {
        guard let value = self[key] else { throw FormatError.missingMetadata(path: path, key: key) }
        return value
    }

    /// A string value, or a ``FormatError`` naming the file and key.
    public func requireString(_ key: String) throws -> String {
        let value = try lookup(key)
        guard case let .string(s) = value else { throw mismatch(key, "string", value) }
        return s
    }

    /// An integer value, or a ``FormatError`` naming the file and key.
    public func requireInt(_ key: String) throws -> Int {
        let value = try lookup(key)
        guard let i = value.intValue else { throw mismatch(key, "integer", value) }
        return i
    }

    /// A float value, or a ``FormatError`` naming the file and key.
    public func requireFloat(_ key: String) throws -> Float {
        let value = try lookup(key)
        guard let d = value.doubleValue else { throw mismatch(key, "float", value) }
        return Float(d)
    }

    /// An array of strings, or a ``FormatError`` naming the file and key.
    public func requireStringArray(_ key: String) throws -> [String] {
        let value = try lookup(key)
        guard case let .array(.string(a)) = value else { throw mismatch(key, "array of strings", value) }
        return a
    }

    private func mismatch(_ key: String, _ expected: String, _ value: GGUFValue) -> FormatError {
        let found: String
        if case let .array(a) = value { found = "array of \(a.elementType)" } else { found = "\(value.type)" }
        return .metadataTypeMismatch(path: path, key: key, expected: expected, found: found)
    }
}
