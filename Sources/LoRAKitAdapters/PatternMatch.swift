/// PEFT's ways of matching module names against configuration keys, with Python-compatible regular expressions.
enum PatternMatch {
    static func isValid(_ pattern: String) -> Bool { (try? Regex(pattern)) != nil }

    /// `re.fullmatch(pattern, name)`.
    static func fullMatch(_ pattern: String, _ name: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: name)) != nil
    }

    /// PEFT's `get_pattern_key`: the first key for which `re.match(rf"(.*\.)?({key})$", name)` succeeds.
    static func firstKey(in keys: [String], matchingEndOf name: String) -> String? {
        keys.first { key in
            guard let regex = try? Regex("(?:.*\\.)?(?:\(key))") else { return false }
            return (try? regex.wholeMatch(in: name)) != nil
        }
    }

    /// The layer index of a module name, as PEFT finds it for `layers_to_transform`: the first numeric segment that
    /// follows a `layers_pattern` segment, or — with no pattern — the first numeric segment after at least two others
    /// and before the last (`model.layers.3.self_attn.q_proj` → 3).
    static func layerIndex(of name: String, patterns: [String]?) -> Int? {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 3 else { return nil }
        if let patterns, !patterns.isEmpty {
            for pattern in patterns {
                guard let regex = try? Regex("(?:\(pattern))") else { continue }
                for i in 0..<(segments.count - 2) where (try? regex.wholeMatch(in: segments[i])) != nil {
                    if let index = Int(segments[i + 1]), segments[i + 1].allSatisfy(\.isASCII) { return index }
                }
            }
            return nil
        }
        for i in 2..<(segments.count - 1) {
            if !segments[i].isEmpty, segments[i].allSatisfy({ $0.isASCII && $0.isNumber }), let index = Int(segments[i]) {
                return index
            }
        }
        return nil
    }
}
