import Foundation

/// One split of a data folder (`train`, `valid` or `test`), as `lorakit eval` reads it.
public enum DataSplit: String, Sendable, CaseIterable, CustomStringConvertible {
    case train, valid, test

    public var description: String { rawValue }

    /// The split's file name in a data folder.
    public var fileName: String { "\(rawValue).jsonl" }

    /// Reads this split from a data folder, or `url` itself when it is a `.jsonl` file.
    /// - Returns: the file read and its examples.
    /// - Throws: ``DataError`` for a missing folder or split file (naming the splits that exist), or a bad line.
    public func load(from url: URL) throws -> (file: URL, examples: [TrainingExample]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError(file: url.path, line: nil, problem: "no such file or folder")
        }
        guard isDirectory.boolValue else { return (url, try JSONLReader.read(url)) }
        let file = url.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            let present = DataSplit.allCases.filter {
                FileManager.default.fileExists(atPath: url.appendingPathComponent($0.fileName).path)
            }
            let found = present.isEmpty ? "no train/valid/test .jsonl files"
                : "it has \(present.map(\.fileName).joined(separator: ", "))"
            throw DataError(file: url.path, line: nil, problem: "no \(fileName) in this folder (\(found))")
        }
        return (file, try JSONLReader.read(file))
    }
}
