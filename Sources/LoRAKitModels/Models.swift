/// Model architectures (Llama, BERT) and their layers.
public enum Models {}
