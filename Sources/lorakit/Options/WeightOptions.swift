import ArgumentParser
import LoRAKit

/// `--dtype fp32|bf16`: how the frozen projection weights are stored (generate, chat, logits, bench generate).
struct WeightOptions: ParsableArguments {
    @Option(name: .long,
            help: "Weight dtype of the projections: fp32 (exact, default) or bf16 (half the memory, faster; logits within bf16 rounding).")
    var dtype: WeightDType = .float32
}

extension WeightDType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["fp32", "bf16"] }
    public var defaultValueDescription: String { self == .float32 ? "fp32" : "bf16" }
}

/// `--adapter-dtype fp32|bf16|int8` (serve, bench serve).
extension SegmentedLoRA.Precision: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}
