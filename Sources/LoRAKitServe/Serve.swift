/// The OpenAI-compatible HTTP server and its multi-adapter engine.
public enum Serve {}
