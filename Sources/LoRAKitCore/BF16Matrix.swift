import CBLAS

/// A frozen `[rows, columns]` matrix stored as bfloat16 (the upper 16 bits of an fp32: 8 exponent bits, 7 mantissa
/// bits), row-major: half the bytes of `Float`, so decode streams twice the weights per second.
///
/// Values are rounded to nearest even from `Float` once (``init(_:)``); products with it (``linear(_:weight:bias:)``)
/// accumulate in `Float`. Immutable and shared by reference between copies.
///
/// ```swift
/// let w = BF16Matrix(Tensor.randomNormal([1536, 576], seed: 1))
/// let y = linear(x, weight: w)          // x [..., 576] → [..., 1536]
/// ```
public struct BF16Matrix: @unchecked Sendable {
    /// `[rows, columns]`.
    public let shape: [Int]
    @usableFromInline let storage: BF16Storage

    /// Rounds a rank-2 `Float` tensor to bf16 (nearest even; NaN stays NaN).
    /// - Parameter tensor: `[rows, columns]`.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "BF16Matrix needs a [rows, columns] tensor, got \(tensor.shape)")
        shape = tensor.shape
        storage = BF16Storage(count: tensor.count)
        let destination = storage.pointer
        let n = tensor.count
        tensor.withUnsafeBufferPointer { source in
            parallelFor(n, grain: 1 << 18) { r in
                lk_f32_to_bf16(source.baseAddress! + r.lowerBound, destination + r.lowerBound, r.count)
            }
        }
    }

    public var rows: Int { shape[0] }
    public var columns: Int { shape[1] }
    /// Number of elements.
    public var count: Int { shape[0] * shape[1] }
    /// Bytes of weight data (2 per element).
    public var byteCount: Int { count * 2 }

    /// Start of the row-major bf16 bits.
    @inlinable public var bits: UnsafePointer<UInt16> { UnsafePointer(storage.pointer) }

    /// The values widened (exactly) back to `Float`: `[rows, columns]`, a new buffer.
    public func floats() -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let source = storage.pointer
        t.withUnsafeMutableBufferPointer { out in
            let destination = out.baseAddress!
            parallelFor(count, grain: 1 << 18) { r in
                lk_bf16_to_f32(source + r.lowerBound, destination + r.lowerBound, r.count)
            }
        }
        return t
    }

    /// The bf16 bits as an array (tests, serialisation).
    public var scalarBits: [UInt16] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
}

/// The 64-byte aligned buffer behind a ``BF16Matrix``.
public final class BF16Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<UInt16>

    init(count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
        pointer = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
