/// LoRA and its variants behind one adapter protocol.
public enum Adapters {}
