import Foundation
import LoRAKitModels

/// An adapter named on a command line: `PATH` or `PATH:SCALE` (`--adapter ./my-adapter:0.5`).
public struct AdapterSpec: Sendable, Equatable {
    public let path: String
    public let scale: Float

    /// Parses `PATH[:SCALE]`. A trailing `:number` is the scale; any other colon belongs to the path.
    /// - Throws: ``AdapterError/invalidConfiguration(field:reason:)`` for an empty path or a non-finite scale.
    public init(parsing text: String) throws {
        if let colon = text.lastIndex(of: ":"), let scale = Float(text[text.index(after: colon)...]) {
            guard scale.isFinite else {
                throw AdapterError.invalidConfiguration(field: "--adapter \(text)", reason: "has a scale that is not a finite number")
            }
            path = String(text[..<colon])
            self.scale = scale
        } else {
            path = text
            scale = 1
        }
        guard !path.isEmpty else {
            throw AdapterError.invalidConfiguration(field: "--adapter", reason: "needs a path: --adapter PATH[:SCALE]")
        }
    }
}

extension AdapterSet {
    /// Loads each adapter folder onto the model and activates them all with their scales (a weighted set).
    /// - Returns: the loaded adapters in order.
    @discardableResult
    public func loadAndActivate(_ specs: [AdapterSpec]) throws -> [Adapter] {
        var loaded: [Adapter] = []
        for (i, spec) in specs.enumerated() {
            let url = URL(fileURLWithPath: (spec.path as NSString).expandingTildeInPath)
            var name = url.lastPathComponent
            if names.contains(name) { name += "#\(i)" }
            let adapter = try PEFTAdapterFile.load(from: url, for: linearsInOrder, name: name)
            try add(adapter)
            loaded.append(adapter)
        }
        try activate(zip(loaded, specs).map { ($0.name, $1.scale) })
        return loaded
    }
}
