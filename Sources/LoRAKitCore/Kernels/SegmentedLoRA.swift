import CBLAS

/// Many LoRA adapters applied at once to one projection's output, each on its own contiguous rows (Punica's SGMV):
/// `y[rows] += scale · (x[rows] · Aᵀ) · Bᵀ` per segment, in two passes split across the compute threads — the shrink
/// over the rows of every segment's `A`, the expand over output columns for all segments — with no allocation once
/// the buffers have grown to the batch's size.
///
/// One instance per calling thread (it holds the segment table and the `x · Aᵀ` scratch):
/// ```swift
/// let lora = SegmentedLoRA()
/// lora.removeAll()
/// lora.append(rows: 0..<3, weights)      // weights: SegmentedLoRA.Weights(a:b:scale:), prepared once
/// lora.apply(x: x, y: y)                 // x [rows, in], y [rows, out]
/// ```
public final class SegmentedLoRA {
    /// How ``Weights`` keeps the factors: `float32` exact (the default), `bfloat16` rounded to nearest even — half
    /// the bytes to stream per step — or `int8`, a quarter of the bytes: symmetric, one scale per row of `A` and per
    /// column of `B` (both on the rank index, so their product is folded into `x · Aᵀ` and the expand reads plain int8).
    /// Products always accumulate in `Float`.
    public enum Precision: String, Sendable, CaseIterable {
        case float32 = "fp32"
        case bfloat16 = "bf16"
        case int8

        /// The CLI's names: `fp32`, `bf16`, `int8` (and the case names).
        public init?(name: String) {
            switch name.lowercased() {
            case "fp32", "f32", "float32", "float": self = .float32
            case "bf16", "bfloat16": self = .bfloat16
            case "int8", "i8", "q8": self = .int8
            default: return nil
            }
        }

        /// Bytes per stored factor element.
        public var bytes: Int {
            switch self {
            case .float32: 4
            case .bfloat16: 2
            case .int8: 1
            }
        }

        var kernelType: Int32 {
            switch self {
            case .float32: Int32(LK_LORA_F32)
            case .bfloat16: Int32(LK_LORA_BF16)
            case .int8: Int32(LK_LORA_I8)
            }
        }
    }

    /// One adapter's factors for one projection, in the kernels' layouts: `A [rank, in]` and `B [out, rank]` (in fp32
    /// shared with the adapter, not copied; the fused decode path reads B's rows) and `Bᵀ` in 16-column panels (packed
    /// once here, for the two-pass path). Immutable: later changes to the adapter's tensors are not seen. A class: the
    /// router hands eight of these to the kernel per projection, and a copy is then one retain, not one per tensor.
    public final class Weights: @unchecked Sendable {
        public let rank: Int
        public let inFeatures: Int
        public let outFeatures: Int
        public let scale: Float
        public let precision: Precision
        enum Storage {
            case float32(a: Tensor, b: Tensor, bT: Tensor)
            case bfloat16(a: BF16Matrix, b: BF16Matrix, bT: BF16Matrix)
            case int8(Int8LowRankFactors)
        }
        let storage: Storage
        /// The kernels' view of ``storage`` (which keeps it alive); `rankScale` only for int8.
        let pointers: (a: UnsafeRawPointer, b: UnsafeRawPointer, bT: UnsafeRawPointer,
                       rankScale: UnsafePointer<Float>?)

        /// - Parameters:
        ///   - a: `[rank, in]`.
        ///   - b: `[out, rank]`.
        ///   - scale: the factor on `B A x` (LoRA's scaling times the adapter's weight).
        ///   - precision: how to keep the factors.
        public init(a: Tensor, b: Tensor, scale: Float, precision: Precision = .float32) {
            precondition(a.rank == 2 && b.rank == 2 && a.shape[0] == b.shape[1],
                         "LoRA factors A \(a.shape) and B \(b.shape) do not chain")
            (rank, inFeatures, outFeatures, self.scale) = (a.shape[0], a.shape[1], b.shape[0], scale)
            self.precision = precision
            switch precision {
            case .float32:
                let bT = Self.panels(b)
                storage = .float32(a: a, b: b, bT: bT)
                pointers = (UnsafeRawPointer(a.base), UnsafeRawPointer(b.base), UnsafeRawPointer(bT.base), nil)
            case .bfloat16:
                let (a16, b16, bT16) = (BF16Matrix(a), BF16Matrix(b), BF16Matrix(Self.panels(b)))
                storage = .bfloat16(a: a16, b: b16, bT: bT16)
                pointers = (UnsafeRawPointer(a16.bits), UnsafeRawPointer(b16.bits), UnsafeRawPointer(bT16.bits), nil)
            case .int8:
                let q = Int8LowRankFactors(a: a, b: b)
                storage = .int8(q)
                pointers = (UnsafeRawPointer(q.a), UnsafeRawPointer(q.b), UnsafeRawPointer(q.bT),
                            UnsafePointer(q.rankScale))
            }
        }

        /// The factors the kernels multiply, widened to `Float`: `A [rank, in]` and `B [out, rank]` as given (fp32),
        /// rounded (bf16) or dequantized (int8: each row of `A` and column of `B` times its scale). Tests and
        /// accuracy reports compare against these.
        public func effectiveFactors() -> (a: Tensor, b: Tensor) {
            switch storage {
            case .float32(let a, let b, _): (a, b)
            case .bfloat16(let a, let b, _): (a.floats(), b.floats())
            case .int8(let q): q.dequantized()
            }
        }

        /// `B [out, rank]` as the kernel's Bᵀ panels: panel p holds `Bᵀ[0..<rank][16p..<16p+16]`, zero past `out`.
        static func panels(_ b: Tensor) -> Tensor {
            let (out, rank) = (b.shape[0], b.shape[1])
            var packed = [Float](repeating: 0, count: panelCount(out: out, rank: rank))
            let src = b.scalars
            for c in 0..<out {
                for j in 0..<rank { packed[panelOffset(row: c, column: j, rank: rank)] = src[c * rank + j] }
            }
            return Tensor(packed, shape: [packed.count / 16, 16])
        }

        /// Elements of the Bᵀ panels for `B [out, rank]`.
        static func panelCount(out: Int, rank: Int) -> Int { (out + 15) / 16 * rank * 16 }

        /// Where `B[row, column]` (`B [out, rank]`) goes in the Bᵀ panels.
        static func panelOffset(row: Int, column: Int, rank: Int) -> Int { ((row / 16) * rank + column) * 16 + row % 16 }

        /// From ``LowRankUpdate``-style factors `(A, B, scale)`.
        public convenience init(_ factors: (a: Tensor, b: Tensor, scale: Float), precision: Precision = .float32) {
            self.init(a: factors.a, b: factors.b, scale: factors.scale, precision: precision)
        }
    }

    private var table: UnsafeMutablePointer<lk_lora_segment>
    private var capacity = 0
    private var count = 0
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCapacity = 0
    /// Floats of scratch the appended segments need (`rows · rank` each).
    private var scratchNeeded = 0
    private var shape: (inFeatures: Int, outFeatures: Int)?

    public init() {
        table = .allocate(capacity: 1)
        scratch = .allocate(capacity: 1)
    }

    deinit {
        table.deallocate()
        scratch.deallocate()
    }

    /// Whether no segment was appended since the last ``removeAll()``.
    public var isEmpty: Bool { count == 0 }

    /// Forgets the segments (keeps the buffers).
    public func removeAll() {
        count = 0
        scratchNeeded = 0
        shape = nil
    }

    /// Adds the segment `rows` with its adapter's `weights`; every segment of one batch has the same in/out sizes
    /// and segments do not overlap. The caller keeps `weights` alive until ``apply(x:y:)`` returns (the table holds
    /// pointers into it, no references).
    public func append(rows: Range<Int>, _ weights: Weights) {
        precondition(shape == nil || shape! == (weights.inFeatures, weights.outFeatures),
                     "segments of one projection must share its in/out sizes")
        shape = (weights.inFeatures, weights.outFeatures)
        if count == capacity { grow() }
        let p = weights.pointers
        table[count] = lk_lora_segment(row0: rows.lowerBound, rows: rows.count, rank: weights.rank, a: p.a,
                                       bt: p.bT, b: p.b, dtype: weights.precision.kernelType, scale: weights.scale,
                                       rank_scale: p.rankScale, t: nil)
        scratchNeeded += rows.count * weights.rank
        count += 1
    }

    /// `y[rows] += scale · (x[rows] · Aᵀ) · Bᵀ` for every appended segment.
    /// - Parameters:
    ///   - x: `[N, in]`, contiguous (only the segments' rows are read).
    ///   - y: `[N, out]`, updated in place (shared storage: the caller owns it).
    public func apply(x: Tensor, y: Tensor) { apply(x: x, y: y, portable: false) }

    /// ``apply(x:y:)`` on the portable kernels when `portable` (tests run them on any CPU).
    func apply(x: Tensor, y: Tensor, portable: Bool) {
        guard let (inF, outF) = shape, count > 0 else { return }
        precondition(x.count % inF == 0 && y.count % outF == 0 && x.count / inF == y.count / outF,
                     "x \(x.shape) and y \(y.shape) do not match the adapters' \(inF) → \(outF)")
        assignScratch()
        var units = 0, total = 0, largest = 0
        for i in 0..<count {
            units += table[i].rank
            total += cost(i)
            largest = max(largest, cost(i))
        }
        let (segments, n, xp, yp) = (UnsafePointer(table), count, UnsafePointer(x.base), y.base)
        let (whole, shrink, expand) = portable
            ? (lk_lora_segments_portable, lk_lora_shrink_portable, lk_lora_expand_portable)
            : (lk_lora_segments, lk_lora_shrink, lk_lora_expand)
        let threads = ComputeThreads.count
        if threads == 1 || total < 2 * Self.grain {
            whole(segments, n, xp, inF, yp, outF)
        } else if largest * threads <= total / 2 {
            // Whole segments per thread, cut by cost (each segment goes to the part holding its midpoint): one
            // hand-off, and each thread streams its own adapters' A then Bᵀ front to back.
            parallelFor(threads, grain: 1) { parts in
                var start = 0, lo = n, hi = 0
                for i in 0..<n {
                    let c = cost(i)
                    if parts.contains((2 * start + c) * threads / (2 * total)) { lo = min(lo, i); hi = i + 1 }
                    start += c
                }
                if lo < hi { whole(segments + lo, hi - lo, xp, inF, yp, outF) }
            }
        } else {
            // Too few segments to share out: split the rows of every A, then the output columns.
            parallelFor(units, grain: Swift.max(1, Self.grain / inF)) { r in
                shrink(segments, n, xp, inF, r.lowerBound, r.upperBound)
            }
            let width = Kernels.width, columns = (outF + width - 1) / width
            parallelFor(columns, grain: Swift.max(1, Self.grain / (units * width))) { r in
                expand(segments, n, yp, outF, r.lowerBound * width, Swift.min(outF, r.upperBound * width))
            }
        }
    }

    /// Rows up to which ``project(x:weight:bias:)`` runs: `lk_lora_fused`'s row block (the skinny kernel's).
    public static let fusedRows = Int(LK_LORA_FUSED_ROWS)

    /// `x · weightᵀ (+ bias)` with every appended segment's term added, in one pass over the weight (``lk_lora_fused``:
    /// the shrink, then the base product with each row's `t · B[n, :]` added before its sum is reduced) — the decode
    /// step's path: one hand-off per projection and the adapters' B read beside the weight. Rows in no segment get
    /// exactly ``linear(_:weight:bias:)``'s skinny result.
    /// - Parameters:
    ///   - x: `[N, in]` with `N ≤ fusedRows`.
    ///   - weight: `[out, in]` fp32, the segments' in/out sizes.
    ///   - bias: `[out]` or `nil`.
    /// - Returns: `[N, out]`, a new tensor.
    public func project(x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        precondition(shape == nil || shape! == (inF, outF), "segments are \(shape!), the weight \(weight.shape)")
        let rows = x.count / inF
        precondition(x.count == rows * inF && rows <= Self.fusedRows, "fused LoRA takes ≤ \(Self.fusedRows) rows")
        assignScratch()
        let y = Tensor(uninitializedShape: [rows, outF])
        lk_lora_fused(weight.base, bias.map { UnsafePointer($0.base) }, x.base, rows, inF, y.base, outF,
                      table, count)
        return withExtendedLifetime((x, weight, bias)) { y }
    }

    /// Points each segment's `t` at its `[rows, rank]` of the scratch, back to back (grown if needed).
    private func assignScratch() {
        if scratchNeeded > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = max(scratchNeeded, 2 * scratchCapacity)
            scratch = .allocate(capacity: scratchCapacity)
        }
        var used = 0
        for i in 0..<count {
            table[i].t = scratch + used
            used += table[i].rows * table[i].rank
        }
    }

    /// Work of segment `i` in weight elements read (rows share each weight load in blocks of 4).
    private func cost(_ i: Int) -> Int {
        let (inF, outF) = shape!
        return table[i].rank * (inF + outF) * ((table[i].rows + 3) / 4)
    }

    /// Weight elements per thread below which work stays on one thread (the hand-off costs more than it saves).
    public static let grain = 1 << 14

    private func grow() {
        let bigger = UnsafeMutablePointer<lk_lora_segment>.allocate(capacity: max(8, 2 * capacity))
        bigger.moveInitialize(from: table, count: count)
        table.deallocate()
        table = bigger
        capacity = max(8, 2 * capacity)
    }
}
