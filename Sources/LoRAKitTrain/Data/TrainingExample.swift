import Foundation

/// One training example as users write it in JSONL, in the three shapes mlx-lm and TRL accept.
public enum TrainingExample: Sendable, Equatable {
    /// `{"text": "..."}`: plain text; the loss covers every token.
    case text(String)
    /// `{"prompt": "...", "completion": "..."}`: by default the loss covers only the completion.
    case promptCompletion(prompt: String, completion: String)
    /// `{"messages": [{"role": "...", "content": "..."}, …]}`: by default the loss covers only assistant turns.
    case chat([Message])

    /// One chat turn.
    public struct Message: Sendable, Equatable, Codable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// Which of the three shapes an example has (a file must use one shape throughout).
    public enum Format: String, Sendable, Equatable, CustomStringConvertible {
        case text, promptCompletion = "prompt/completion", chat = "messages"
        public var description: String { rawValue }
    }

    public var format: Format {
        switch self {
        case .text: return .text
        case .promptCompletion: return .promptCompletion
        case .chat: return .chat
        }
    }
}

/// A problem in a data file, with the file and line it is on.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let file: String
    /// 1-based line number, or `nil` for a problem with the whole file.
    public let line: Int?
    public let problem: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)"
    }
}

/// Reads JSONL training data: one JSON object per line, blank lines ignored.
public enum JSONLReader {
    static let roles: Set<String> = ["system", "user", "assistant", "tool"]

    /// Parses a file, detecting its format from the first example.
    /// - Throws: ``DataError`` naming the file and line of the first bad line (broken JSON, missing or wrong fields,
    ///   a line in another format than the first, an empty file).
    public static func read(_ url: URL) throws -> [TrainingExample] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DataError(file: url.path, line: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(data, file: url.path)
    }

    /// Parses JSONL bytes; `file` is used in error messages.
    public static func parse(_ data: Data, file: String) throws -> [TrainingExample] {
        var examples: [TrainingExample] = []
        var format: TrainingExample.Format?
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let example = try parseLine(Data(line), file: file, line: lineNumber)
            if let format, example.format != format {
                throw DataError(file: file, line: lineNumber,
                                problem: "this line is in the \(example.format) format but the file started in the "
                                    + "\(format) format; use one format per file")
            }
            format = example.format
            examples.append(example)
        }
        guard !examples.isEmpty else {
            throw DataError(file: file, line: nil, problem: "no examples (the file is empty); "
                            + #"each line must be a JSON object like {"text": "..."}"#)
        }
        return examples
    }

    static func parseLine(_ line: Data, file: String, line number: Int) throws -> TrainingExample {
        func fail(_ problem: String) -> DataError { DataError(file: file, line: number, problem: problem) }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                throw fail("expected a JSON object")
            }
            object = parsed
        } catch let error as DataError {
            throw error
        } catch {
            throw fail("not valid JSON (\(String(describing: error).prefix(120)))")
        }
        if let messages = object["messages"] {
            guard let list = messages as? [[String: Any]], !list.isEmpty else {
                throw fail(#""messages" must be a non-empty list of {"role", "content"} objects"#)
            }
            var turns: [TrainingExample.Message] = []
            for (i, message) in list.enumerated() {
                guard let role = message["role"] as? String, roles.contains(role) else {
                    throw fail("messages[\(i)].role must be one of \(roles.sorted().joined(separator: ", "))")
                }
                guard let content = message["content"] as? String else {
                    throw fail("messages[\(i)].content must be a string")
                }
                turns.append(.init(role: role, content: content))
            }
            guard turns.contains(where: { $0.role == "assistant" }) else {
                throw fail("no assistant message: there is nothing to learn from this conversation")
            }
            return .chat(turns)
        }
        if object["prompt"] != nil || object["completion"] != nil {
            guard let prompt = object["prompt"] as? String else { throw fail(#""prompt" must be a string"#) }
            guard let completion = object["completion"] as? String, !completion.isEmpty else {
                throw fail(#""completion" must be a non-empty string"#)
            }
            return .promptCompletion(prompt: prompt, completion: completion)
        }
        if let text = object["text"] {
            guard let string = text as? String, !string.isEmpty else { throw fail(#""text" must be a non-empty string"#) }
            return .text(string)
        }
        let keys = object.keys.sorted().joined(separator: ", ")
        throw fail(#"unknown fields [\#(keys)]; expected "text", "prompt"+"completion" or "messages""#)
    }
}
