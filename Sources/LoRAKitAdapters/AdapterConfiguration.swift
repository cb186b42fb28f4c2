import Foundation

/// A LoRA adapter's configuration, read from and written to PEFT's `adapter_config.json`.
///
/// Field semantics follow PEFT's `LoraConfig`. Fields LoRAKit does not model are kept verbatim and written back on
/// save; fields that would change the maths in ways LoRAKit does not implement are refused by name.
public struct AdapterConfiguration: Sendable, Equatable {
    /// Which modules an adapter wraps (`target_modules`).
    public enum Targets: Sendable, Equatable {
        /// Module names or name suffixes: `q_proj` matches `model.layers.0.self_attn.q_proj`.
        case names([String])
        /// A regular expression that must match the whole module name.
        case regex(String)
        /// Every linear layer except the output head (`"all-linear"`).
        case allLinear
    }

    /// How `lora_A`/`lora_B` start (`init_lora_weights`).
    public enum Initialization: Sendable, Equatable {
        /// PEFT's default (`true`): A Kaiming-uniform (a = √5), B zero — the adapter starts as a no-op.
        case standard
        /// `"gaussian"`: A normal with std 1/r, B zero.
        case gaussian
        /// `false`: A and B both random, so the adapter is not a no-op (for tests).
        case random
        /// `"pissa"` (exact SVD) or `"pissa_niter_N"`: A, B from the top-r singular triplets of W; the base keeps the residual.
        case pissa(iterations: Int?)
        /// `"olora"`: A, B from a QR decomposition of W; the base keeps the residual.
        case olora
    }

    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    public var targets: Targets
    public var excludedModules: Targets?
    public var useRSLoRA: Bool
    public var useDoRA: Bool
    public var modulesToSave: [String]
    public var initialization: Initialization
    public var layersToTransform: [Int]?
    public var layersPattern: [String]?
    /// Per-module rank overrides; keys are regular expressions matched against the end of module names.
    public var rankPattern: [String: Int]
    /// Per-module alpha overrides, keyed like ``rankPattern``.
    public var alphaPattern: [String: Double]
    public var baseModelNameOrPath: String?
    public var taskType: String?

    /// Every field as read, including those LoRAKit does not model; written back on save.
    public private(set) var rawFields: [String: JSONValue]

    /// A plain LoRA configuration (PEFT defaults for everything not given).
    public init(rank: Int = 8, alpha: Double = 8, dropout: Double = 0, targets: Targets = .names(["q_proj", "v_proj"]),
                useRSLoRA: Bool = false, useDoRA: Bool = false, initialization: Initialization = .standard) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.excludedModules = nil
        self.useRSLoRA = useRSLoRA
        self.useDoRA = useDoRA
        self.modulesToSave = []
        self.initialization = initialization
        self.layersToTransform = nil
        self.layersPattern = nil
        self.rankPattern = [:]
        self.alphaPattern = [:]
        self.baseModelNameOrPath = nil
        self.taskType = "CAUSAL_LM"
        self.rawFields = [:]
    }

    /// The scaling `s` of `Δ(x) = s · B A x` for a module of this rank and alpha: `alpha / r`, or `alpha / √r` with rsLoRA.
    public func scaling(rank r: Int, alpha a: Double) -> Double {
        useRSLoRA ? a / Double(r).squareRoot() : a / Double(r)
    }

    /// The rank and alpha of one module after ``rankPattern`` and ``alphaPattern`` (PEFT's `get_pattern_key`:
    /// the first key, in order, that matches the end of the module name).
    public func rankAndAlpha(forModule name: String) -> (rank: Int, alpha: Double) {
        let r = PatternMatch.firstKey(in: rankPattern.keys.sorted(), matchingEndOf: name).flatMap { rankPattern[$0] }
        let a = PatternMatch.firstKey(in: alphaPattern.keys.sorted(), matchingEndOf: name).flatMap { alphaPattern[$0] }
        return (r ?? rank, a ?? alpha)
    }
}

// MARK: - adapter_config.json

extension AdapterConfiguration {
    /// Fields whose presence (with a non-default value) changes the maths in ways LoRAKit does not implement.
    static let refusedUnlessDefault: [(field: String, isDefault: (JSONValue) -> Bool)] = [
        ("fan_in_fan_out", { $0.isNull || $0 == .bool(false) }),
        ("bias", { $0.isNull || $0 == .string("none") }),
        ("lora_bias", { $0.isNull || $0 == .bool(false) }),
        ("layer_replication", { $0.isNull }),
        ("target_parameters", { $0.isNull || $0 == .array([]) }),
        ("trainable_token_indices", { $0.isNull }),
        ("use_qalora", { $0.isNull || $0 == .bool(false) }),
        ("alora_invocation_tokens", { $0.isNull }),
        ("megatron_config", { $0.isNull }),
        ("use_bdlora", { $0.isNull || $0 == .bool(false) }),
        ("arrow_config", { $0.isNull }),
        ("kasa_config", { $0.isNull }),
        ("monteclora_config", { $0.isNull }),
        ("velora_config", { $0.isNull }),
    ]

    /// Parses PEFT's `adapter_config.json`.
    /// - Throws: ``AdapterError`` naming the bad or unsupported field.
    public init(json data: Data) throws {
        let raw: [String: JSONValue]
        do {
            guard let object = try JSONDecoder().decode(JSONValue.self, from: data).objectValue else {
                throw AdapterError.invalidConfiguration(field: "(top level)", reason: "must be a JSON object")
            }
            raw = object
        } catch let error as AdapterError {
            throw error
        } catch {
            throw AdapterError.invalidConfiguration(field: "(file)", reason: "is not valid JSON (\(error))")
        }
        try self.init(fields: raw)
    }

    /// Builds the configuration from the decoded JSON object of `adapter_config.json`.
    public init(fields raw: [String: JSONValue]) throws {
        func invalid(_ field: String, _ reason: String) -> AdapterError { .invalidConfiguration(field: field, reason: reason) }
        if let type = raw["peft_type"], !type.isNull, type.stringValue != "LORA" {
            throw AdapterError.unsupported(field: "peft_type", value: "\(type.stringValue ?? "\(type)")")
        }
        for (field, isDefault) in Self.refusedUnlessDefault {
            if let value = raw[field], !isDefault(value) { throw AdapterError.unsupported(field: field, value: Self.show(value)) }
        }
        self.init()
        rawFields = raw
        if let r = raw["r"] {
            guard let value = r.intValue, value > 0 else { throw invalid("r", "must be a positive integer") }
            rank = value
        }
        if let a = raw["lora_alpha"] {
            guard let value = a.doubleValue, value.isFinite else { throw invalid("lora_alpha", "must be a number") }
            alpha = value
        } else {
            alpha = Double(rank)
        }
        if let d = raw["lora_dropout"] {
            guard let value = d.doubleValue, value >= 0, value < 1 else { throw invalid("lora_dropout", "must be in [0, 1)") }
            dropout = value
        }
        targets = try Self.targets(raw["target_modules"], field: "target_modules") ?? .names(["q_proj", "v_proj"])
        excludedModules = try Self.targets(raw["exclude_modules"], field: "exclude_modules")
        if case .allLinear = excludedModules { throw invalid("exclude_modules", "cannot be \"all-linear\"") }
        useRSLoRA = try Self.bool(raw["use_rslora"], field: "use_rslora")
        useDoRA = try Self.bool(raw["use_dora"], field: "use_dora")
        modulesToSave = try Self.strings(raw["modules_to_save"], field: "modules_to_save") ?? []
        initialization = try Self.initialization(raw["init_lora_weights"])
        if let layers = raw["layers_to_transform"], !layers.isNull {
            if let one = layers.intValue { layersToTransform = [one] }
            else if let list = layers.arrayValue, list.allSatisfy({ $0.intValue != nil }) { layersToTransform = list.compactMap(\.intValue) }
            else { throw invalid("layers_to_transform", "must be an integer or a list of integers") }
        }
        layersPattern = try Self.strings(raw["layers_pattern"], field: "layers_pattern")
        if let pattern = raw["rank_pattern"]?.objectValue {
            for (key, value) in pattern {
                guard let r = value.intValue, r > 0 else { throw invalid("rank_pattern.\(key)", "must be a positive integer") }
                rankPattern[key] = r
            }
        }
        if let pattern = raw["alpha_pattern"]?.objectValue {
            for (key, value) in pattern {
                guard let a = value.doubleValue else { throw invalid("alpha_pattern.\(key)", "must be a number") }
                alphaPattern[key] = a
            }
        }
        baseModelNameOrPath = raw["base_model_name_or_path"]?.stringValue
        taskType = raw["task_type"]?.stringValue
        for key in Array(rankPattern.keys) + Array(alphaPattern.keys) {
            guard PatternMatch.isValid(key) else { throw invalid("rank_pattern/alpha_pattern key '\(key)'", "is not a valid regular expression") }
        }
        if case .regex(let pattern) = targets, !PatternMatch.isValid(pattern) {
            throw invalid("target_modules", "'\(pattern)' is not a valid regular expression")
        }
    }

    /// The JSON object PEFT writes: the fields read (unknown ones included) updated with this configuration.
    public var fields: [String: JSONValue] {
        var out = rawFields
        out["peft_type"] = .string("LORA")
        out["r"] = .int(rank)
        out["lora_alpha"] = alpha.rounded() == alpha ? .int(Int(alpha)) : .double(alpha)
        out["lora_dropout"] = .double(dropout)
        out["target_modules"] = Self.json(targets)
        out["exclude_modules"] = excludedModules.map(Self.json) ?? .null
        out["use_rslora"] = .bool(useRSLoRA)
        out["use_dora"] = .bool(useDoRA)
        out["modules_to_save"] = modulesToSave.isEmpty ? .null : .array(modulesToSave.map { .string($0) })
        out["init_lora_weights"] = Self.json(initialization)
        out["layers_to_transform"] = layersToTransform.map { .array($0.map { .int($0) }) } ?? .null
        out["layers_pattern"] = layersPattern.map { .array($0.map { .string($0) }) } ?? .null
        out["rank_pattern"] = .object(rankPattern.mapValues { .int($0) })
        out["alpha_pattern"] = .object(alphaPattern.mapValues { $0.rounded() == $0 ? .int(Int($0)) : .double($0) })
        out["base_model_name_or_path"] = baseModelNameOrPath.map { .string($0) } ?? .null
        out["task_type"] = taskType.map { .string($0) } ?? .null
        if out["bias"] == nil { out["bias"] = .string("none") }
        if out["fan_in_fan_out"] == nil { out["fan_in_fan_out"] = .bool(false) }
        if out["inference_mode"] == nil { out["inference_mode"] = .bool(true) }
        return out
    }

    /// Marks the configuration as saved for inference, as PEFT's `save_pretrained` does.
    mutating func markInference() { rawFields["inference_mode"] = .bool(true) }

    /// `adapter_config.json` bytes, keys sorted and indented as PEFT writes them.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(fields))
    }

    // MARK: field helpers

    private static func show(_ value: JSONValue) -> String {
        guard let data = try? JSONEncoder().encode(value) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func bool(_ value: JSONValue?, field: String) throws -> Bool {
        guard let value, !value.isNull else { return false }
        guard let b = value.boolValue else { throw AdapterError.invalidConfiguration(field: field, reason: "must be true or false") }
        return b
    }

    private static func strings(_ value: JSONValue?, field: String) throws -> [String]? {
        guard let value, !value.isNull else { return nil }
        if let one = value.stringValue { return [one] }
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw AdapterError.invalidConfiguration(field: field, reason: "must be a string or a list of strings")
        }
        return list.compactMap(\.stringValue)
    }

    private static func targets(_ value: JSONValue?, field: String) throws -> Targets? {
        guard let value, !value.isNull else { return nil }
        if let text = value.stringValue {
            return text.lowercased() == "all-linear" ? .allLinear : .regex(text)
        }
        guard let names = try strings(value, field: field) else { return nil }
        return .names(names.sorted())
    }

    private static func json(_ targets: Targets) -> JSONValue {
        switch targets {
        case .names(let names): return .array(names.sorted().map { .string($0) })
        case .regex(let pattern): return .string(pattern)
        case .allLinear: return .string("all-linear")
        }
    }

    private static func initialization(_ value: JSONValue?) throws -> Initialization {
        guard let value, !value.isNull else { return .standard }
        if let b = value.boolValue { return b ? .standard : .random }
        guard let text = value.stringValue else {
            throw AdapterError.invalidConfiguration(field: "init_lora_weights", reason: "must be a boolean or a string")
        }
        switch text.lowercased() {
        case "gaussian": return .gaussian
        case "pissa": return .pissa(iterations: nil)
        case "olora": return .olora
        default:
            if text.hasPrefix("pissa_niter_"), let n = Int(text.dropFirst("pissa_niter_".count)), n >= 0 {
                return .pissa(iterations: n)
            }
            throw AdapterError.unsupported(field: "init_lora_weights", value: "\"\(text)\"")
        }
    }

    private static func json(_ initialization: Initialization) -> JSONValue {
        switch initialization {
        case .standard: return .bool(true)
        case .random: return .bool(false)
        case .gaussian: return .string("gaussian")
        case .pissa(let n): return .string(n.map { "pissa_niter_\($0)" } ?? "pissa")
        case .olora: return .string("olora")
        }
    }
}
