import CBLAS

extension Kernels {
    /// `C[m, n] = alpha · A[m, k] · op(B) + beta · C` with `A` in `Float` and `B` bf16: `transB` true for
    /// `B [n, k]` (the forward `x · Wᵀ`), false for `B [k, n]` (the input gradient `dY · W`). Row-major.
    ///
    /// - Few rows (`m ≤ skinnyRowsBF16`, decode) with `transB`: each weight row is streamed once, widened to fp32.
    /// - Otherwise on AVX512_BF16 CPUs: `A` is rounded to bf16 once, then a packed, cache-blocked `vdpbf16ps` GEMM
    ///   (fp32 accumulation) runs in blocks across the compute threads.
    /// - Otherwise: `B` is widened to fp32 in column slices and multiplied with `sgemm`.
    public static func gemmBF16(transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if transB && m <= skinnyRowsBF16 {
            parallelFor(n, grain: Swift.max(1, gemvGrain / Swift.max(k, 1))) { r in
                lk_gemm_skinny_bf16(b + r.lowerBound * ldb, ldb, a, lda, c + r.lowerBound, ldc, m, r.count, k,
                                    alpha, beta)
            }
            return
        }
        if lk_bf16_gemm_available() != 0 {
            packedGEMMBF16(transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: c, ldc: ldc)
        } else {
            widenedGEMMBF16(transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                            beta: beta, c: c, ldc: ldc)
        }
    }

    /// Up to this many rows, `x · Wᵀ` with bf16 weights streams the weights (decode, small serving batches).
    public static let skinnyRowsBF16 = 4

    /// The AVX512_BF16 path: activations to bf16 (`lda2` even, rows 4-byte aligned), then blocks of C in parallel.
    static func packedGEMMBF16(transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                               lda: Int, b: UnsafePointer<UInt16>, ldb: Int, beta: Float,
                               c: UnsafeMutablePointer<Float>, ldc: Int) {
        let lda2 = (k + 31) / 32 * 32
        let abf = UnsafeMutableRawPointer.allocate(byteCount: m * lda2 * 2, alignment: 64)
            .bindMemory(to: UInt16.self, capacity: m * lda2)
        defer { abf.deallocate() }
        parallelFor(m, grain: Swift.max(1, (1 << 15) / Swift.max(k, 1))) { r in
            lk_f32_to_bf16_rows(a, lda, abf, lda2, r.lowerBound, r.upperBound, k)
        }
        let tasks = bf16Tasks(m: m, n: n, threads: ComputeThreads.count)
        let workCount = lk_bf16_gemm_workspace(k)
        let abfConst = UnsafePointer(abf)
        parallelFor(tasks.count, grain: 1) { range in
            let work = UnsafeMutableRawPointer.allocate(byteCount: workCount * 4, alignment: 64)
                .bindMemory(to: UInt32.self, capacity: workCount)
            defer { work.deallocate() }
            for (rows, columns) in tasks[range] {
                lk_bf16_gemm_block(transB ? 1 : 0, rows.lowerBound, rows.upperBound, columns.lowerBound,
                                   columns.upperBound, k, alpha, abfConst, lda2, b, ldb, beta, c, ldc, work)
            }
        }
    }

    /// Blocks of C for ``packedGEMMBF16``, largest first: whole 256-column slices over all rows — each packs its slice of
    /// B once — in a multiple of `threads`, then the columns left over split by rows into one part per thread (each
    /// part packs those columns again, so only what cannot be shared out whole is). With 576 columns on two threads
    /// that is two 256-column blocks and the last 64 columns in two halves; splitting all rows in two instead packed
    /// every weight once per thread (and in four, for balance, four times: 7% of a training step).
    static func bf16Tasks(m: Int, n: Int, threads: Int) -> [(rows: Range<Int>, columns: Range<Int>)] {
        let columnBlock = 256, mr = Int(LK_BF16_MR)
        let whole = threads == 1 ? (n + columnBlock - 1) / columnBlock : n / columnBlock / threads * threads
        var tasks = (0..<whole).map { (0..<m, ($0 * columnBlock)..<Swift.min(n, ($0 + 1) * columnBlock)) }
        let rest = Swift.min(n, whole * columnBlock)..<n
        if !rest.isEmpty {
            let parts = Swift.min(threads, (m + mr - 1) / mr)
            let rowsPerPart = ((m + parts - 1) / parts + mr - 1) / mr * mr
            for part in 0..<parts where part * rowsPerPart < m {
                tasks.append((part * rowsPerPart..<Swift.min(m, (part + 1) * rowsPerPart), rest))
            }
        }
        return tasks
    }

    /// The portable path: widen slices of B to fp32 and call ``gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
    static func widenedGEMMBF16(transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                                lda: Int, b: UnsafePointer<UInt16>, ldb: Int, beta: Float,
                                c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Column slices of C small enough that the widened slice of B stays a few MiB.
        let slice = Swift.max(64, Swift.min(n, (1 << 20) / Swift.max(k, 1)))
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: slice * k)
        defer { buffer.deallocate() }
        for n0 in stride(from: 0, to: n, by: slice) {
            let width = Swift.min(slice, n - n0)
            if transB {  // rows n0..<n0+width of B [n, k]
                for j in 0..<width { lk_bf16_to_f32(b + (n0 + j) * ldb, buffer + j * k, k) }
                gemm(transA: false, transB: true, m: m, n: width, k: k, alpha: alpha, a: a, lda: lda, b: buffer,
                     ldb: k, beta: beta, c: c + n0, ldc: ldc)
            } else {  // columns n0..<n0+width of B [k, n]
                for p in 0..<k { lk_bf16_to_f32(b + p * ldb + n0, buffer + p * width, width) }
                gemm(transA: false, transB: false, m: m, n: width, k: k, alpha: alpha, a: a, lda: lda, b: buffer,
                     ldb: width, beta: beta, c: c + n0, ldc: ldc)
            }
        }
    }
}
