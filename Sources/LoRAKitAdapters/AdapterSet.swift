import LoRAKitCore
import LoRAKitModels

/// Several named adapters on one model: load many, activate one, a weighted set or none, remove one, and merge one
/// into the base weights or unmerge it.
public final class AdapterSet: @unchecked Sendable {
    private let linears: [String: Linear]
    /// The projections in the model's order (targets are chosen in this order, as PEFT walks modules).
    let linearsInOrder: [Linear]
    public private(set) var adapters: [Adapter] = []
    /// Active adapters and their weights, in activation order.
    public private(set) var active: [(name: String, weight: Float)] = []
    /// Names of adapters folded into the base weights.
    public private(set) var merged: [String] = []

    /// - Parameter linears: the model's projections (`LlamaModel.linears`).
    public init(_ linears: [Linear]) {
        self.linearsInOrder = linears
        self.linears = Dictionary(linears.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var names: [String] { adapters.map(\.name) }

    public func adapter(named name: String) throws -> Adapter {
        guard let adapter = adapters.first(where: { $0.name == name }) else {
            throw AdapterError.unknownAdapter(name: name, loaded: names)
        }
        return adapter
    }

    /// Adds an adapter (inactive). Its modules must exist in this model.
    public func add(_ adapter: Adapter) throws {
        guard !names.contains(adapter.name) else {
            throw AdapterError.invalidConfiguration(field: "name", reason: "'\(adapter.name)' is already loaded")
        }
        for (module, _) in adapter.modules where linears[module] == nil {
            throw AdapterError.targetNotFound(pattern: module, examples: Array(linears.keys.sorted().prefix(6)))
        }
        adapters.append(adapter)
    }

    /// Makes exactly these adapters act, each with its weight; `[:]` leaves only the base (and merged adapters).
    public func activate(_ weights: [(name: String, weight: Float)]) throws {
        for (name, _) in weights {
            _ = try adapter(named: name)
            if merged.contains(name) {
                throw AdapterError.invalidConfiguration(field: name, reason: "is merged into the base; unmerge it first")
            }
        }
        for linear in linears.values { linear.adapters = [] }
        for (name, weight) in weights {
            let adapter = try adapter(named: name)
            adapter.weight = weight
            for (module, variant) in adapter.modules { linears[module]?.adapters.append(variant) }
        }
        active = weights
    }

    /// Activates one adapter at weight 1.
    public func activate(_ name: String) throws { try activate([(name, 1)]) }

    /// Only the base model (plus merged adapters) acts.
    public func deactivateAll() { try? activate([]) }

    /// Removes an adapter (deactivating it first). A merged adapter must be unmerged first.
    public func remove(_ name: String) throws {
        _ = try adapter(named: name)
        guard !merged.contains(name) else {
            throw AdapterError.invalidConfiguration(field: name, reason: "is merged into the base; unmerge it first")
        }
        try activate(active.filter { $0.name != name })
        adapters.removeAll { $0.name == name }
    }

    /// Folds an adapter into the base weights at its current weight (it stops acting as an adapter).
    public func merge(_ name: String, weight: Float = 1) throws {
        let adapter = try adapter(named: name)
        guard !merged.contains(name) else { return }
        try activate(active.filter { $0.name != name })
        adapter.weight = weight
        for (module, variant) in adapter.modules {
            guard let linear = linears[module] else { continue }
            linear.weight = withNoGrad { variant.merged(into: linear.weight) }
        }
        merged.append(name)
    }

    /// Takes a merged adapter back out of the base weights.
    public func unmerge(_ name: String) throws {
        let adapter = try adapter(named: name)
        guard merged.contains(name) else { return }
        for (module, variant) in adapter.modules {
            guard let linear = linears[module] else { continue }
            linear.weight = withNoGrad { variant.unmerged(from: linear.weight) }
        }
        merged.removeAll { $0 == name }
    }
}
