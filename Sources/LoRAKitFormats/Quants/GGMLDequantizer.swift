/// Converts ggml-typed data (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) to `Float`.
///
/// Large conversions are split into contiguous block ranges across `threads` threads; each block kernel uses
/// SIMD. Results are bit-identical to gguf-py's `gguf.quants.dequantize` (and ggml's `dequantize_row_*`).
/// ```swift
/// try GGMLDequantizer.dequantize(.q4_1, from: rawBytes, into: floats)   // floats.count elements
/// ```
public enum GGMLDequantizer {
    /// Below this many elements per thread, work is not split.
    static let minimumElementsPerThread = 1 << 16

    /// Dequantizes `destination.count` elements of `type` stored in `source`.
    /// - Parameters:
    ///   - type: the storage type; must be one of ``GGMLType/dequantizable``.
    ///   - source: exactly `type.byteCount(elements: destination.count)` bytes of blocks.
    ///   - destination: receives the elements in storage order.
    ///   - threads: worker threads (`nil`: one per active processor).
    /// - Throws: ``FormatError/unsupportedTensorType(path:tensor:type:)`` or
    ///   ``FormatError/invalidArgument(_:)`` when the sizes do not match.
    public static func dequantize(_ type: GGMLType, from source: UnsafeRawBufferPointer,
                                  into destination: UnsafeMutableBufferPointer<Float>,
                                  threads: Int? = nil) throws {
        guard type.canDequantize else {
            throw FormatError.unsupportedTensorType(path: "(buffer)", tensor: "(buffer)", type: type.description)
        }
        guard let bytes = type.byteCount(elements: destination.count) else {
            throw FormatError.invalidArgument(
                "cannot dequantize \(destination.count) elements of \(type.name): not a multiple of the block size "
                    + "\(type.blockSize)")
        }
        guard bytes == source.count else {
            throw FormatError.invalidArgument(
                "\(destination.count) elements of \(type.name) need \(bytes) bytes, the source has \(source.count)")
        }
        guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let blocks = destination.count / type.blockSize
        let minimumBlocks = max(1, minimumElementsPerThread / type.blockSize)
        ParallelChunks.run(count: blocks, threads: threads ?? ParallelChunks.defaultThreads, minimumPerThread: minimumBlocks) { range in
            convertBlocks(type, src + range.lowerBound * type.bytesPerBlock,
                          dst + range.lowerBound * type.blockSize, blocks: range.count)
        }
    }

    /// Dequantizes a whole number of blocks without size checks (used by the row and tensor APIs after they
    /// validated sizes). `type` must be dequantizable.
    static func convertBlocks(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
                              blocks: Int) {
        switch type {
        case .f32: BlockKernels.f32(src, dst, count: blocks)
        case .f16: BlockKernels.f16(src, dst, count: blocks)
        case .bf16: BlockKernels.bf16(src, dst, count: blocks)
        case .q8_0: BlockKernels.q8_0(src, dst, blocks: blocks)
        case .q4_0: BlockKernels.q4_0(src, dst, blocks: blocks)
        case .q4_1: BlockKernels.q4_1(src, dst, blocks: blocks)
        case .q5_0: BlockKernels.q5_0(src, dst, blocks: blocks)
        case .q5_1: BlockKernels.q5_1(src, dst, blocks: blocks)
        case .q4_K: BlockKernels.q4_K(src, dst, blocks: blocks)
        case .q5_K: BlockKernels.q5_K(src, dst, blocks: blocks)
        case .q6_K: BlockKernels.q6_K(src, dst, blocks: blocks)
        default:
            preconditionFailure("convertBlocks called with \(type); callers check canDequantize")  // invariant
        }
    }
}
