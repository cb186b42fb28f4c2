/// Facts about this build of LoRAKit.
public enum LoRAKitInfo {
    /// The library and CLI version (semantic versioning).
    public static let version = "0.1.0"
}
