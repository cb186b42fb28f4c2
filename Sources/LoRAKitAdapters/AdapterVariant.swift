import LoRAKitCore
import LoRAKitModels

/// One adapter variant on one projection: the protocol every variant (LoRA, DoRA, and those to come) implements,
/// in the manner of PEFT's `LoraVariant` and mlx-swift-lm's `LoRALayer`.
///
/// `Linear` calls ``LinearAdapter/forward(_:baseOutput:base:)`` (declared in LoRAKitModels); this protocol adds
/// what training, saving and merging need. A variant is one file; the table in ``AdapterKind`` is the only place
/// that lists them.
public protocol AdapterVariant: LinearAdapter {
    /// Which variant this is.
    static var kind: AdapterKind { get }

    /// Makes the adapter for one module with fresh weights, as the configuration's initialisation says.
    /// - Parameters:
    ///   - target: the module, its rank, alpha and scaling.
    ///   - base: the projection it adapts (shapes; PiSSA-style inits read its weight).
    ///   - seed: seeds every random initialisation (the same seed gives the same weights everywhere).
    init(target: AdapterTarget, base: Linear, configuration: AdapterConfiguration, seed: UInt64) throws

    /// The module, rank, alpha and scaling.
    var target: AdapterTarget { get }

    /// How strongly the adapter acts: 1 as trained, 0 off; weighted adapter sets use other values.
    var weight: Float { get set }

    /// Seeds the dropout mask of the next training forward pass (the trainer sets it every step, so runs and
    /// resumed runs draw the same masks).
    var dropoutSeed: UInt64 { get set }

    /// The trainable tensors by PEFT key suffix (`lora_A.weight`, `lora_B.weight`, `lora_magnitude_vector`).
    /// Setting it replaces the values (the shapes must stay as they are: see ``AdapterParameters/check``).
    var parameters: [String: Tensor] { get set }

    /// The projection's weight with the adapter folded in, `[out, in]`.
    func merged(into baseWeight: Tensor) -> Tensor

    /// The inverse of ``merged(into:)`` for the weight it returned.
    func unmerged(from mergedWeight: Tensor) -> Tensor
}

/// Shared checks for variants' parameter tables.
public enum AdapterParameters {
    /// Checks that `values` holds exactly the expected keys with the expected shapes.
    /// - Throws: ``AdapterError`` naming the key.
    public static func check(_ values: [String: Tensor], expected: [String: [Int]], module: String) throws {
        for (key, shape) in expected {
            guard let tensor = values[key] else {
                throw AdapterError.missingWeight(key: "\(module).\(key)", file: "adapter weights")
            }
            guard tensor.shape == shape else {
                throw AdapterError.shapeMismatch(key: "\(module).\(key)", expected: shape, found: tensor.shape)
            }
        }
        for key in values.keys where expected[key] == nil {
            throw AdapterError.unexpectedWeight(key: "\(module).\(key)", file: "adapter weights")
        }
    }
}
