/// File formats: GGUF (``GGUFFile``, ``GGUFWriter``, ``GGMLDequantizer``), safetensors (``SafeTensorsFile``,
/// ``SafeTensorsWriter``) and Hugging Face `config.json` (``HFModelConfig``). Errors are ``FormatError``.
/// See docs/formats.md.
public enum Formats {}
