import Foundation
import LoRAKitAdapters

/// Every setting of `lorakit train`, from flags over a config file over defaults, keyed by flag name.
///
/// The adapter settings become PEFT `adapter_config.json` fields (so they mean exactly what they mean in PEFT);
/// the rest become ``TrainingOptions`` and data settings.
public struct TrainSettings {
    /// Setting names (flag names without dashes) with their defaults; `nil` default means "not set".
    public static let defaults: [(key: String, value: JSONValue?)] = [
        ("model", .string("smollm2-135m")), ("dtype", .string("fp32")), ("data", nil), ("out", .string("runs/lora")),
        ("valid-split", .double(0)), ("max-seq-len", .int(1024)), ("train-on-prompt", .bool(false)),
        ("pack", .bool(false)),
        ("rank", .int(8)), ("alpha", .double(16)), ("dropout", .double(0)), ("targets", .string("q_proj,v_proj")),
        ("exclude", nil), ("layers", nil), ("rank-pattern", nil), ("alpha-pattern", nil), ("rslora", .bool(false)),
        ("dora", .bool(false)), ("init", .string("default")),
        ("iters", .int(200)), ("batch-size", .int(4)), ("grad-accum", .int(1)), ("lr", .double(1e-4)),
        ("lora-plus-ratio", .double(1)), ("weight-decay", .double(0.01)), ("schedule", .string("cosine")),
        ("warmup", .int(0)), ("min-lr-ratio", .double(0)), ("max-grad-norm", .double(1)), ("seed", .int(0)),
        ("val-every", .int(50)), ("val-batches", .int(0)), ("save-every", .int(100)),
        ("grad-checkpoint", .bool(false)),
    ]

    /// The resolved values (defaults filled in), as written to `RUN/run.json`.
    public let values: [String: JSONValue]

    /// - Parameters:
    ///   - flags: the settings given on the command line (they win).
    ///   - file: the settings of `--config`.
    /// - Throws: ``TrainError`` for an unknown setting name.
    public init(flags: [String: JSONValue], file: [String: JSONValue] = [:]) throws {
        let known = Set(Self.defaults.map(\.key))
        for key in file.keys.sorted() where !known.contains(key) {
            throw TrainError("unknown setting '\(key)' in the config file; settings are named as the flags: "
                             + Self.defaults.map(\.key).joined(separator: ", "))
        }
        var values: [String: JSONValue] = [:]
        for (key, value) in Self.defaults { if let value { values[key] = value } }
        values.merge(file) { $1 }
        values.merge(flags) { $1 }
        self.values = values
    }

    // MARK: typed access

    public func string(_ key: String) throws -> String? {
        guard let v = values[key], !v.isNull else { return nil }
        if let s = v.stringValue { return s }
        if let i = v.intValue { return String(i) }
        if let d = v.doubleValue { return String(d) }
        throw TrainError("setting '\(key)' must be a string")
    }

    public func int(_ key: String) throws -> Int {
        guard let i = values[key]?.intValue else { throw TrainError("setting '\(key)' must be an integer") }
        return i
    }

    public func double(_ key: String) throws -> Double {
        guard let d = values[key]?.doubleValue else { throw TrainError("setting '\(key)' must be a number") }
        return d
    }

    public func bool(_ key: String) throws -> Bool {
        guard let b = values[key]?.boolValue else { throw TrainError("setting '\(key)' must be true or false") }
        return b
    }

    /// A list given as `[a, b]` or as one comma-separated string.
    public func list(_ key: String) throws -> [String]? {
        guard let v = values[key], !v.isNull else { return nil }
        if let a = v.arrayValue {
            return try a.map { item in
                if let s = item.stringValue { return s }
                if let i = item.intValue { return String(i) }
                throw TrainError("setting '\(key)' must be a list of names")
            }
        }
        return try string(key)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    // MARK: what they configure

    public var options: TrainingOptions {
        get throws {
            var o = TrainingOptions()
            o.steps = try int("iters")
            o.batchSize = try int("batch-size")
            o.gradientAccumulation = try int("grad-accum")
            o.learningRate = try double("lr")
            guard let shape = LearningRateSchedule.Shape(rawValue: try string("schedule") ?? "") else {
                throw TrainError("--schedule must be one of constant, linear, cosine")
            }
            o.schedule = shape
            o.warmupSteps = try int("warmup")
            o.minimumLearningRateRatio = try double("min-lr-ratio")
            o.adam.weightDecay = try double("weight-decay")
            o.adam.loraPlusRatio = try double("lora-plus-ratio")
            o.maxGradientNorm = try double("max-grad-norm")
            let seed = try int("seed")
            guard seed >= 0 else { throw TrainError("--seed must be >= 0") }
            o.seed = UInt64(seed)
            o.validateEvery = try int("val-every")
            o.validationBatches = try int("val-batches")
            o.saveEvery = try int("save-every")
            o.checkpointLayers = try bool("grad-checkpoint")
            try o.validate()
            return o
        }
    }

    /// The adapter as PEFT `adapter_config.json` fields.
    public func adapterConfiguration(baseModel: String) throws -> AdapterConfiguration {
        var fields: [String: JSONValue] = [
            "peft_type": .string("LORA"), "task_type": .string("CAUSAL_LM"),
            "r": .int(try int("rank")), "lora_alpha": .double(try double("alpha")),
            "lora_dropout": .double(try double("dropout")),
            "use_rslora": .bool(try bool("rslora")), "use_dora": .bool(try bool("dora")),
            "base_model_name_or_path": .string(baseModel),
        ]
        let targets = try list("targets") ?? []
        if targets == ["all-linear"] { fields["target_modules"] = .string("all-linear") }
        else if targets.count == 1, let only = targets.first, only.contains(where: { "\\.*^$|()[]+?".contains($0) }) {
            fields["target_modules"] = .string(only)  // one regular expression, as PEFT takes a string
        } else { fields["target_modules"] = .array(targets.map(JSONValue.string)) }
        if let exclude = try list("exclude") { fields["exclude_modules"] = .array(exclude.map(JSONValue.string)) }
        if let layers = try list("layers") {
            fields["layers_to_transform"] = .array(try layers.map { text in
                guard let n = Int(text), n >= 0 else { throw TrainError("--layers must list layer numbers, got '\(text)'") }
                return .int(n)
            })
        }
        for (key, field) in [("rank-pattern", "rank_pattern"), ("alpha-pattern", "alpha_pattern")] {
            guard let entries = try list(key) else { continue }
            var pattern: [String: JSONValue] = [:]
            for entry in entries {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let number = Double(parts[1]) else {
                    throw TrainError("--\(key) takes NAME=VALUE entries (e.g. down_proj=32), got '\(entry)'")
                }
                pattern[parts[0]] = key == "rank-pattern" ? .int(Int(number)) : .double(number)
            }
            fields[field] = .object(pattern)
        }
        let initName = try string("init") ?? "default"
        fields["init_lora_weights"] = initName == "default" ? .bool(true) : .string(initName)
        do { return try AdapterConfiguration(fields: fields) } catch { throw TrainError("\(error)") }
    }
}
