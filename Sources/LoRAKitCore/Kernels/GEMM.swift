import CBLAS

extension Kernels {
    /// Row-major `C = alpha · op(A) · op(B) + beta · C` with `op(A)` `[m, k]` and `op(B)` `[k, n]`.
    ///
    /// Routes one-row (`m == 1`) and one-column (`n == 1`) products to `sgemv`, which streams the matrix at memory
    /// bandwidth (a one-row GEMM is ~20× slower). Transposes are BLAS flags; nothing is copied.
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if transB && !transA && m <= skinnyRows && k > 0 {
            // C[m, n] = A[m, k] · B[n, k]ᵀ with few rows (decode, small serving batches): our kernel reads each
            // row of B once for all m rows, split across the compute threads; OpenBLAS is 2-3x slower here.
            parallelFor(n, grain: Swift.max(1, gemvGrain / Swift.max(k, 1))) { r in
                lk_gemm_skinny(b + r.lowerBound * ldb, ldb, a, lda, c + r.lowerBound, ldc, m, r.count, k, alpha, beta)
            }
            return
        }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if m == 1 {
            // c[1, n] = op(B)ᵀ · a-vector; the a-vector has stride lda when A is stored transposed ([k, 1]).
            let inc = Int32(transA ? lda : 1)
            if transB {
                lk_sgemv(0, Int32(n), Int32(k), alpha, b, Int32(ldb), a, inc, beta, c, 1)
            } else {
                lk_sgemv(1, Int32(k), Int32(n), alpha, b, Int32(ldb), a, inc, beta, c, 1)
            }
            return
        }
        if n == 1 {
            let inc = Int32(transB ? 1 : ldb)
            if transA {
                lk_sgemv(1, Int32(k), Int32(m), alpha, a, Int32(lda), b, inc, beta, c, Int32(ldc))
            } else {
                lk_sgemv(0, Int32(m), Int32(k), alpha, a, Int32(lda), b, inc, beta, c, Int32(ldc))
            }
            return
        }
        // BLAS runs single-threaded (see ``ComputeThreads``): split C into row blocks (or column blocks when it has
        // few rows) across the pool, each a BLAS call of its own.
        func block(m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
            lk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                     beta, c, Int32(ldc))
        }
        let threads = ComputeThreads.count
        if threads == 1 || m * n * k < 2 * blasGrain {
            block(m: m, n: n, a: a, b: b, c: c)
        } else if m >= n || m >= 16 * threads {
            parallelFor(m, grain: Swift.max(8, blasGrain / Swift.max(1, n * k))) { r in
                block(m: r.count, n: n, a: a + (transA ? r.lowerBound : r.lowerBound * lda), b: b,
                      c: c + r.lowerBound * ldc)
            }
        } else {
            parallelFor(n, grain: Swift.max(16, blasGrain / Swift.max(1, m * k))) { r in
                block(m: m, n: r.count, a: a, b: b + (transB ? r.lowerBound * ldb : r.lowerBound),
                      c: c + r.lowerBound)
            }
        }
    }

    /// Multiply-adds per thread below which a BLAS product stays on one thread.
    public static let blasGrain = 1 << 18

    /// Matrix elements per thread below which the decode GEMV stays on one thread.
    public static let gemvGrain = 1 << 16
    /// Up to this many rows, `A · Bᵀ` runs on LoRAKit's skinny kernel instead of BLAS (measured: 3x faster than
    /// OpenBLAS at 1-2 rows, 2.5x at 4, even at 8).
    public static let skinnyRows = 8

    /// The naive triple loop (in `Double`), kept beside ``gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
    /// as its test reference.
    static func naiveGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                c[i * ldc + j] = Float(s)
            }
        }
    }
}
