import Foundation
import LoRAKitAdapters

/// A run configuration file (`--config run.yaml`): keys named as `lorakit train`'s flags without the dashes
/// (`rank: 16`, `lr: 2e-4`, `targets: [q_proj, v_proj]`), so a file and a command line say the same thing.
///
/// Accepts JSON (`.json`) or the flat subset of YAML such files need: one `key: value` per line, `#` comments,
/// numbers, `true`/`false`, quoted or bare strings, and `[a, b]` lists or `- item` lines under a key. Nested
/// mappings are refused with the line number, as is anything else it does not understand.
public enum RunConfigFile {
    public static func read(_ url: URL) throws -> [String: JSONValue] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainError("\(url.path): cannot read the config file")
        }
        if url.pathExtension.lowercased() == "json" {
            guard let object = try? JSONDecoder().decode(JSONValue.self, from: data).objectValue else {
                throw TrainError("\(url.path): not a JSON object")
            }
            return object
        }
        return try parseYAML(String(decoding: data, as: UTF8.self), file: url.path)
    }

    static func parseYAML(_ text: String, file: String) throws -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        var listKey: String?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(raw))
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            func fail(_ why: String) -> TrainError { TrainError("\(file):\(index + 1): \(why)") }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("- ") || trimmed == "-" {
                guard let key = listKey else { throw fail("a list item without a key above it") }
                let item = scalar(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                fields[key] = .array((fields[key]?.arrayValue ?? []) + [item])
                continue
            }
            guard line.first != " " && line.first != "\t" else {
                throw fail("nested settings are not supported; write flat `key: value` lines (keys as the flags)")
            }
            guard let colon = line.firstIndex(of: ":") else { throw fail("expected `key: value`") }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw fail("empty key") }
            guard fields[key] == nil else { throw fail("'\(key)' is set twice") }
            if value.isEmpty {
                listKey = key
                fields[key] = .array([])
            } else {
                listKey = nil
                fields[key] = try value.hasPrefix("[") ? list(value, fail: fail) : scalar(value)
            }
        }
        return fields
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        for (i, c) in zip(line.indices, line) {
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c }
            else if c == "#" && (i == line.startIndex || line[line.index(before: i)] == " ") { return String(line[..<i]) }
        }
        return line
    }

    private static func list(_ text: String, fail: (String) -> TrainError) throws -> JSONValue {
        guard text.hasSuffix("]") else { throw fail("a list must end with ]") }
        let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if inner.isEmpty { return .array([]) }
        return .array(inner.split(separator: ",").map { scalar($0.trimmingCharacters(in: .whitespaces)) })
    }

    private static func scalar(_ text: String) -> JSONValue {
        if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
            return .string(String(text.dropFirst().dropLast()))
        }
        switch text.lowercased() {
        case "true", "yes": return .bool(true)
        case "false", "no": return .bool(false)
        case "null", "~": return .null
        default: break
        }
        if let int = Int(text) { return .int(int) }
        if let double = Double(text) { return .double(double) }
        return .string(text)
    }
}
