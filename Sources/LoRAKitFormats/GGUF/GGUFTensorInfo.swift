/// Where and how one tensor is stored in a GGUF file.
///
/// **Shape convention.** GGUF lists dimensions fastest-varying first (ggml's `ne[0], ne[1], …`).
/// ``shape`` reverses them into row-major order, as PyTorch / Hugging Face see the tensor: a linear layer with
/// `ne = [in, out]` has `shape == [out, in]` (`[rows, cols]`), and `token_embd` with `ne = [hidden, vocab]`
/// has `shape == [vocab, hidden]`. ``ggmlDimensions`` keeps the file's order.
public struct GGUFTensorInfo: Sendable, Equatable, CustomStringConvertible {
    /// Tensor name as stored (`"blk.0.attn_q.weight"`).
    public let name: String
    /// Row-major shape (slowest-varying first): `[rows, cols]` for matrices.
    public let shape: [Int]
    /// The file's dimension order, fastest-varying first (`ne[0]` = row length).
    public var ggmlDimensions: [Int] { shape.reversed() }
    /// Storage type.
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section (as stored in the file).
    public let relativeOffset: Int
    /// Absolute byte offset of the data in the file.
    public let fileOffset: Int
    /// Bytes of data.
    public let byteCount: Int
    /// Number of elements (product of ``shape``).
    public let elementCount: Int

    /// Elements in one row (the last row-major dimension, ggml's `ne[0]`); 1 for a scalar.
    public var rowLength: Int { shape.last ?? 1 }
    /// Number of rows (product of all but the last row-major dimension).
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
    /// Bytes of one row: `rowLength / type.blockSize * type.bytesPerBlock`.
    public var bytesPerRow: Int { rowLength / type.blockSize * type.bytesPerBlock }

    public var description: String { "\(name) \(type.name) \(shape)" }
}
