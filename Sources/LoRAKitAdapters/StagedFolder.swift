import Foundation

/// Writes a folder all at once: `fill` writes into a temporary sibling folder, which then replaces `folder` by
/// rename, so a failure halfway leaves no partial output and an existing folder stays intact until the end.
public enum StagedFolder {
    public static func write(to folder: URL, _ fill: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: staging) }
        try fill(staging)
        if fm.fileExists(atPath: folder.path) {
            let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(UUID().uuidString)")
            try fm.moveItem(at: folder, to: old)
            try fm.moveItem(at: staging, to: folder)
            try? fm.removeItem(at: old)
        } else {
            try fm.moveItem(at: staging, to: folder)
        }
    }
}
