import LoRAKitModels

/// Every adapter variant LoRAKit implements: the one registry that maps a configuration to a type.
public enum AdapterKind: String, CaseIterable, Sendable, Codable {
    case lora
    case dora

    /// The type that implements the variant.
    public var implementation: any AdapterVariant.Type {
        switch self {
        case .lora: return LoRA.self
        case .dora: return DoRA.self
        }
    }

    /// The variant a PEFT configuration describes.
    public static func of(_ configuration: AdapterConfiguration) -> AdapterKind {
        configuration.useDoRA ? .dora : .lora
    }
}
