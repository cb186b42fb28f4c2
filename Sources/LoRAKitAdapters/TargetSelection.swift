/// One module an adapter wraps, with its rank, alpha and scaling after the per-module patterns.
public struct AdapterTarget: Sendable, Equatable {
    /// The module's name in the base model, e.g. `model.layers.3.self_attn.q_proj`.
    public let module: String
    public let rank: Int
    public let alpha: Double
    /// `alpha / rank`, or `alpha / √rank` with rsLoRA.
    public let scaling: Double
}

extension AdapterConfiguration {
    /// Chooses the modules to adapt exactly as PEFT's `check_target_module_exists` does.
    ///
    /// Order of the rules: `exclude_modules` and `modules_to_save` remove a module; a regex `target_modules` must
    /// match the whole name; a list matches a name or a name suffix after a dot, and is then narrowed by
    /// `layers_to_transform` (with `layers_pattern`); `all-linear` is every linear module but the output head.
    /// - Parameters:
    ///   - linearModules: names of every linear module of the base model (without `.weight`).
    ///   - outputHead: the name of the output projection (`lm_head`), which `all-linear` leaves out.
    /// - Throws: ``AdapterError/targetNotFound(pattern:examples:)`` when nothing matches.
    public func selectTargets(in linearModules: [String], outputHead: String? = "lm_head") throws -> [AdapterTarget] {
        if layersToTransform != nil, targets != .names(Self.namesIn(targets)) {
            throw AdapterError.invalidConfiguration(field: "layers_to_transform",
                                                    reason: "cannot be used when target_modules is a string (regex or all-linear)")
        }
        if layersPattern != nil, layersToTransform == nil {
            throw AdapterError.invalidConfiguration(field: "layers_pattern", reason: "needs layers_to_transform as well")
        }
        let selected = linearModules.filter { name in
            !isExcluded(name) && matchesTargets(name, outputHead: outputHead)
        }
        guard !selected.isEmpty else {
            throw AdapterError.targetNotFound(pattern: describeTargets, examples: linearModules)
        }
        return selected.map { name in
            let (r, a) = rankAndAlpha(forModule: name)
            return AdapterTarget(module: name, rank: r, alpha: a, scaling: scaling(rank: r, alpha: a))
        }
    }

    private static func namesIn(_ targets: Targets) -> [String] {
        if case .names(let names) = targets { return names }
        return []
    }

    private var describeTargets: String {
        switch targets {
        case .names(let names): return "[\(names.joined(separator: ", "))]"
        case .regex(let pattern): return "'\(pattern)'"
        case .allLinear: return "'all-linear'"
        }
    }

    private func isExcluded(_ name: String) -> Bool {
        switch excludedModules {
        case .regex(let pattern): if PatternMatch.fullMatch(pattern, name) { return true }
        case .names(let names): if names.contains(where: { name == $0 || name.hasSuffix(".\($0)") }) { return true }
        case .allLinear, nil: break
        }
        return modulesToSave.contains { m in PatternMatch.fullMatch("(?:^|.*\\.)(?:\(m))(?:$|\\..*)", name) }
    }

    private func matchesTargets(_ name: String, outputHead: String?) -> Bool {
        // As in PEFT, an exact full-name match (and `all-linear`, which PEFT expands to full names) is taken as is;
        // only suffix matches are narrowed by `layers_to_transform`.
        switch targets {
        case .regex(let pattern):
            return PatternMatch.fullMatch(pattern, name)
        case .allLinear:
            return name != outputHead
        case .names(let names):
            if names.contains(name) { return true }
            guard names.contains(where: { name.hasSuffix(".\($0)") }) else { return false }
        }
        guard let layers = layersToTransform, !layers.isEmpty else { return true }
        guard let index = PatternMatch.layerIndex(of: name, patterns: layersPattern) else { return false }
        return layers.contains(index)
    }
}
