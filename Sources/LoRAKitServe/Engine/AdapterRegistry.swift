import Foundation
import LoRAKitAdapters
import LoRAKitCore
import LoRAKitModels

/// The adapters a server can serve by name, at most `maxLoaded` of them in memory at once (least recently used
/// first out), loaded from `directory/<name>` or from a path registered at run time, on demand.
///
/// An adapter in use by a running sequence is pinned by an ``AdapterLease`` and never evicted. Thread-safe.
public final class AdapterRegistry: @unchecked Sendable {
    /// One loaded adapter: its variant on each of the registry's ``linears`` (by position, so the row router looks
    /// a projection up without hashing its name).
    final class Entry: @unchecked Sendable {
        let name: String
        /// Stable small id for segment grouping.
        let id: Int
        let adapter: Adapter
        /// The variant on `linears[i]`, or `nil`.
        let variants: [(any AdapterVariant)?]
        /// The LoRA / rsLoRA modules' factors in the segmented kernels' layouts, prepared once (`Bᵀ` is a copy; with
        /// bf16 adapter weights every factor is); `nil` for other variants and unadapted projections.
        let lowRank: [SegmentedLoRA.Weights?]
        var pins = 0
        var lastUse: UInt64 = 0
        var retired = false

        init(name: String, id: Int, adapter: Adapter, precision: SegmentedLoRA.Precision, linears: [Linear]) {
            (self.name, self.id, self.adapter) = (name, id, adapter)
            let byModule = Dictionary(adapter.modules.map { ($0.module, $0.variant) }, uniquingKeysWith: { a, _ in a })
            variants = linears.map { byModule[$0.name] }
            lowRank = variants.map { variant in
                (variant as? LowRankUpdate).map { SegmentedLoRA.Weights($0.lowRankUpdate, precision: precision) }
            }
        }
    }

    public let directory: URL?
    public let maxLoaded: Int
    /// How LoRA / rsLoRA factors are kept for serving: fp32 (exact, the default), bf16 (half the bytes each decode
    /// step streams; outputs within bf16 rounding of the weights) or int8 (a quarter; per-rank scales). Other
    /// variants always run in fp32.
    public let adapterDType: SegmentedLoRA.Precision
    /// The base model's adaptable projections, in the order ``Entry`` indexes them.
    let linears: [Linear]
    private let lock = NSLock()
    private var registered: [String: URL] = [:]
    private var loaded: [String: Entry] = [:]
    private var clock: UInt64 = 0
    private var nextID = 0
    private var loadCount = 0, evictionCount = 0

    /// - Parameters:
    ///   - linears: the base model's adaptable projections (the vocabulary head excluded).
    ///   - directory: a folder whose subfolders are PEFT adapters, served under the subfolder's name.
    ///   - maxLoaded: adapters kept in memory at once (`--max-loras`).
    ///   - adapterDType: see ``adapterDType`` (`--adapter-dtype`).
    public init(linears: [Linear], directory: URL?, maxLoaded: Int, adapterDType: SegmentedLoRA.Precision = .float32) {
        (self.linears, self.directory, self.maxLoaded) = (linears, directory, max(1, maxLoaded))
        self.adapterDType = adapterDType
    }

    /// Every adapter name a request may use: the subfolders of ``directory`` holding an `adapter_config.json`, and
    /// those registered at run time. Sorted.
    public var names: [String] {
        var all = Set(lock.withLock { Array(registered.keys) + loaded.keys })
        if let directory, let items = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
            for item in items where Self.isAdapterFolder(directory.appendingPathComponent(item)) { all.insert(item) }
        }
        return all.sorted()
    }

    /// Names of the adapters in memory now.
    public var loadedNames: [String] { lock.withLock { loaded.keys.sorted() } }

    /// (loads, evictions) since start.
    public var counters: (loads: Int, evictions: Int) { lock.withLock { (loadCount, evictionCount) } }

    static func isAdapterFolder(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(PEFTAdapterFile.configName).path)
    }

    /// Where adapter `name` would be loaded from, or `nil` if no such adapter exists.
    public func location(of name: String) -> URL? {
        if let url = lock.withLock({ registered[name] }) { return url }
        guard let directory, Self.isValidName(name) else { return nil }
        let url = directory.appendingPathComponent(name)
        return Self.isAdapterFolder(url) ? url : nil
    }

    /// Adapter names are one path component of letters, digits and `-_.:` (never `..`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0) }
    }

    /// Registers (and loads, to check it) the adapter at `path` under `name` (`POST /v1/load_lora_adapter`).
    /// - Throws: ``ServeError`` when the name is taken or invalid; the loader's error when the folder is no valid
    ///   adapter for this base model.
    public func register(name: String, path: URL) throws {
        guard Self.isValidName(name) else {
            throw ServeError.invalidField("lora_name", "must be 1-128 letters, digits or -_.: characters")
        }
        guard location(of: name) == nil else {
            throw ServeError.conflict("an adapter named '\(name)' already exists; unload it first")
        }
        let adapter = try load(name: name, from: path)
        lock.withLock {
            registered[name] = path
            insertLocked(Entry(name: name, id: takeID(), adapter: adapter, precision: adapterDType, linears: linears))
        }
    }

    /// Serves an adapter built in memory (benchmarks, library users) under its name; it is never evicted.
    /// - Throws: ``ServeError/conflict(_:)`` when the name is taken or every slot is pinned.
    public func add(_ adapter: Adapter) throws {
        guard location(of: adapter.name) == nil, lock.withLock({ loaded[adapter.name] == nil }) else {
            throw ServeError.conflict("an adapter named '\(adapter.name)' already exists")
        }
        try lock.withLock {
            let entry = Entry(name: adapter.name, id: takeID(), adapter: adapter, precision: adapterDType, linears: linears)
            entry.pins = 1  // in memory only: nothing to reload it from
            guard insertLocked(entry) else { throw ServeError.conflict("every --max-loras slot is in use") }
        }
    }

    /// Forgets a registered adapter, or drops a directory adapter from memory (`POST /v1/unload_lora_adapter`).
    /// Sequences already using it finish with it.
    /// - Throws: ``ServeError/unknownModel(_:available:)`` when nothing by that name exists.
    public func unregister(name: String) throws {
        guard location(of: name) != nil || lock.withLock({ loaded[name] != nil }) else {
            throw ServeError.unknownModel(name, available: names)
        }
        lock.withLock {
            registered[name] = nil
            if let entry = loaded.removeValue(forKey: name) { entry.retired = true }
        }
    }

    /// Pins adapter `name` in memory, loading it first (and evicting the least recently used unpinned adapter) when
    /// needed. Returns `nil` while every one of the ``maxLoaded`` slots is pinned: try again later.
    /// - Throws: ``ServeError/unknownModel(_:available:)``, or the loader's error for a broken adapter folder.
    public func lease(_ name: String) throws -> AdapterLease? {
        if let lease = lock.withLock({ () -> AdapterLease? in
            guard let entry = loaded[name] else { return nil }
            return pinLocked(entry)
        }) { return lease }
        guard let url = location(of: name) else { throw ServeError.unknownModel(name, available: names) }
        guard lock.withLock({ loaded.count < maxLoaded || loaded.values.contains { $0.pins == 0 } }) else { return nil }
        let adapter = try load(name: name, from: url)  // outside the lock: reading files takes milliseconds
        return lock.withLock { () -> AdapterLease? in
            if let entry = loaded[name] { return pinLocked(entry) }  // a concurrent lease loaded it first
            let entry = Entry(name: name, id: takeID(), adapter: adapter, precision: adapterDType, linears: linears)
            guard insertLocked(entry) else { return nil }
            return pinLocked(entry)
        }
    }

    private func load(name: String, from url: URL) throws -> Adapter {
        let adapter = try PEFTAdapterFile.load(from: url, for: linears, name: name, outputHead: nil)
        lock.withLock { loadCount += 1 }
        return adapter
    }

    private func takeID() -> Int { defer { nextID += 1 }; return nextID }

    /// Adds `entry`, evicting the least recently used unpinned adapter if the slots are full.
    @discardableResult
    private func insertLocked(_ entry: Entry) -> Bool {
        if loaded.count >= maxLoaded {
            guard let victim = loaded.values.filter({ $0.pins == 0 }).min(by: { $0.lastUse < $1.lastUse }) else {
                return false
            }
            loaded[victim.name] = nil
            victim.retired = true
            evictionCount += 1
        }
        clock += 1
        entry.lastUse = clock
        loaded[entry.name] = entry
        return true
    }

    private func pinLocked(_ entry: Entry) -> AdapterLease {
        clock += 1
        entry.lastUse = clock
        entry.pins += 1
        return AdapterLease(entry: entry, registry: self)
    }

    fileprivate func unpin(_ entry: Entry) { lock.withLock { entry.pins -= 1 } }
}

/// A pin on a loaded adapter: while it lives the adapter stays in memory. Released when dropped.
public final class AdapterLease: @unchecked Sendable {
    let entry: AdapterRegistry.Entry
    private let registry: AdapterRegistry

    fileprivate init(entry: AdapterRegistry.Entry, registry: AdapterRegistry) {
        (self.entry, self.registry) = (entry, registry)
    }

    public var name: String { entry.name }

    deinit { registry.unpin(entry) }
}
