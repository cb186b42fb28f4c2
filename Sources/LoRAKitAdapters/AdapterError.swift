/// Why an adapter could not be configured, loaded, attached or saved.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(field: String, reason: String)
    case unsupported(field: String, value: String)
    case unreadable(path: String, reason: String)
    case targetNotFound(pattern: String, examples: [String])
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    case missingWeight(key: String, file: String)
    case unexpectedWeight(key: String, file: String)
    case unknownAdapter(name: String, loaded: [String])

    public var description: String {
        switch self {
        case .invalidConfiguration(let field, let reason):
            return "adapter_config.json: '\(field)' \(reason)"
        case .unsupported(let field, let value):
            return "adapter_config.json: '\(field)' = \(value) is not supported by LoRAKit yet; "
                + "remove it or train the adapter without it"
        case .unreadable(let path, let reason):
            return "cannot read adapter at \(path): \(reason)"
        case .targetNotFound(let pattern, let examples):
            let shown = examples.prefix(6).joined(separator: ", ")
            return "target_modules \(pattern) matches no module of the base model (modules look like: \(shown)); "
                + "hint: wrong base model or wrong target names?"
        case .shapeMismatch(let key, let expected, let found):
            return "\(key) has shape \(found) but the base model needs \(expected) (hint: adapter made for another base model?)"
        case .missingWeight(let key, let file):
            return "\(file) has no tensor '\(key)' (hint: incomplete or corrupt adapter file?)"
        case .unexpectedWeight(let key, let file):
            return "\(file) has tensor '\(key)' that matches no adapted module (hint: adapter made for another base model?)"
        case .unknownAdapter(let name, let loaded):
            return "no adapter named '\(name)' (loaded: \(loaded.isEmpty ? "none" : loaded.joined(separator: ", ")))"
        }
    }
}
