/// Tokenizers: byte-level BPE, WordPiece and chat templates.
public enum Tokenizers {}
