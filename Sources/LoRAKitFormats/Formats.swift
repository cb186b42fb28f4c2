/// File formats: GGUF, safetensors and model configuration files.
public enum Formats {}
