import Foundation
import LoRAKitCore
import LoRAKitModels

/// A named adapter: one configuration and one variant instance per adapted module.
///
/// ```swift
/// let adapter = try Adapter.load(from: url, for: model.linears)      // a PEFT adapter folder
/// let set = AdapterSet(model.linears)
/// try set.add(adapter); try set.activate(["my-adapter": 1])
/// ```
public final class Adapter: @unchecked Sendable {
    public let name: String
    public var configuration: AdapterConfiguration
    /// Variants keyed by module name (`model.layers.0.self_attn.q_proj`), in the model's module order.
    public let modules: [(module: String, variant: any AdapterVariant)]

    public init(name: String, configuration: AdapterConfiguration, modules: [(module: String, variant: any AdapterVariant)]) {
        self.name = name
        self.configuration = configuration
        self.modules = modules
    }

    /// A fresh adapter for training: targets chosen from `linears` as PEFT would, weights initialised with `seed`.
    /// - Throws: ``AdapterError`` when nothing matches or the configuration asks for something unsupported.
    public convenience init(name: String, configuration: AdapterConfiguration, for linears: [Linear],
                            outputHead: String? = "lm_head", seed: UInt64) throws {
        let byName = Dictionary(linears.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let targets = try configuration.selectTargets(in: linears.map(\.name), outputHead: outputHead)
        let type = AdapterKind.of(configuration).implementation
        var modules: [(String, any AdapterVariant)] = []
        for (i, target) in targets.enumerated() {
            guard let base = byName[target.module] else { continue }
            modules.append((target.module, try type.init(target: target, base: base, configuration: configuration,
                                                         seed: seed &+ UInt64(i) &* 0x9E37_79B9)))
        }
        self.init(name: name, configuration: configuration, modules: modules)
    }

    public var kind: AdapterKind { AdapterKind.of(configuration) }

    /// How strongly every module acts (1 as trained).
    public var weight: Float {
        get { modules.first?.variant.weight ?? 1 }
        set { for (_, variant) in modules { variant.weight = newValue } }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int {
        modules.reduce(0) { sum, entry in sum + entry.variant.parameters.values.reduce(0) { $0 + $1.count } }
    }
}
