import CBLAS
import Foundation

/// Errors from the LAPACK-backed decompositions.
public enum DecompositionError: Error, CustomStringConvertible, Equatable {
    /// The BLAS library has no LAPACK symbols (`dgesdd_`, `dgeqrf_`, `dorgqr_`).
    case lapackMissing(library: String)
    /// LAPACK returned a non-zero `info`.
    case failed(routine: String, info: Int)
    /// The input is not a matrix or the requested rank does not fit.
    case invalidShape(operation: String, shape: [Int], detail: String)

    public var description: String {
        switch self {
        case let .lapackMissing(library):
            return "\(library) has no LAPACK (dgesdd_/dgeqrf_/dorgqr_); install libopenblas0 (it includes LAPACK) or point LORAKIT_BLAS_LIBRARY at a BLAS with LAPACK"
        case let .failed(routine, info):
            return "LAPACK \(routine) failed with info = \(info)" + (info > 0 ? " (did not converge; check the matrix for NaN/Inf)" : "")
        case let .invalidShape(operation, shape, detail):
            return "\(operation) of a tensor with shape \(shape): \(detail)"
        }
    }
}

/// A column-major `Double` matrix: the layout LAPACK wants and the precision the decompositions run in.
struct ColumnMajorMatrix {
    var rows: Int
    var cols: Int
    var data: [Double]

    init(rows: Int, cols: Int, data: [Double]? = nil) {
        self.rows = rows
        self.cols = cols
        self.data = data ?? [Double](repeating: 0, count: rows * cols)
    }

    /// From a row-major `[rows, cols]` tensor.
    init(_ t: Tensor) {
        let (r, c) = (t.shape[0], t.shape[1])
        self.init(rows: r, cols: c)
        let values = t.scalars
        for i in 0..<r { for j in 0..<c { data[i + j * r] = Double(values[i * c + j]) } }
    }

    subscript(i: Int, j: Int) -> Double {
        get { data[i + j * rows] }
        set { data[i + j * rows] = newValue }
    }

    /// The row-major `Float` tensor `[rows, cols]`.
    func tensor() -> Tensor {
        var values = [Float](repeating: 0, count: rows * cols)
        for i in 0..<rows { for j in 0..<cols { values[i * cols + j] = Float(data[i + j * rows]) } }
        return Tensor(values, shape: [rows, cols])
    }

    var transposed: ColumnMajorMatrix {
        var out = ColumnMajorMatrix(rows: cols, cols: rows)
        for j in 0..<cols { for i in 0..<rows { out.data[j + i * cols] = data[i + j * rows] } }
        return out
    }

    /// The first `n` columns.
    func leadingColumns(_ n: Int) -> ColumnMajorMatrix {
        ColumnMajorMatrix(rows: rows, cols: n, data: Array(data[0..<(rows * n)]))
    }

    /// `self · other` (plain loops in Double; the operands here are thin).
    func times(_ other: ColumnMajorMatrix) -> ColumnMajorMatrix {
        // invariant: callers pass conforming shapes.
        precondition(cols == other.rows, "matrix product of \(rows)x\(cols) and \(other.rows)x\(other.cols)")
        var out = ColumnMajorMatrix(rows: rows, cols: other.cols)
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { c in
                    for j in 0..<other.cols {
                        for k in 0..<cols {
                            let bkj = b[k + j * other.rows]
                            if bkj == 0 { continue }
                            let aCol = k * rows, cCol = j * rows
                            for i in 0..<rows { c[cCol + i] += a[aCol + i] * bkj }
                        }
                    }
                }
            }
        }
        return out
    }

    static func check(_ info: Int32, _ routine: String) throws {
        if info == LK_LAPACK_MISSING { throw DecompositionError.lapackMissing(library: String(cString: lk_blas_library())) }
        if info != 0 { throw DecompositionError.failed(routine: routine, info: Int(info)) }
    }

    /// Thin SVD `self = U diag(s) Vᵀ`, `U [rows, k]`, `s [k]` descending, `Vᵀ [k, cols]`, `k = min(rows, cols)`.
    func svd() throws -> (u: ColumnMajorMatrix, s: [Double], vt: ColumnMajorMatrix) {
        let k = Swift.min(rows, cols)
        var a = data
        var s = [Double](repeating: 0, count: k)
        var u = ColumnMajorMatrix(rows: rows, cols: k)
        var vt = ColumnMajorMatrix(rows: k, cols: cols)
        let info = lk_dgesdd(Int32(rows), Int32(cols), &a, Int32(Swift.max(rows, 1)), &s, &u.data,
                             Int32(Swift.max(rows, 1)), &vt.data, Int32(Swift.max(k, 1)))
        try Self.check(info, "dgesdd")
        return (u, s, vt)
    }

    /// Reduced QR `self = Q R`, `Q [rows, k]` with orthonormal columns, `R [k, cols]` upper triangular
    /// (LAPACK's Householder signs, as `torch.linalg.qr`).
    func qr() throws -> (q: ColumnMajorMatrix, r: ColumnMajorMatrix) {
        let k = Swift.min(rows, cols)
        var a = data
        var tau = [Double](repeating: 0, count: Swift.max(k, 1))
        let lda = Int32(Swift.max(rows, 1))
        try Self.check(lk_dgeqrf(Int32(rows), Int32(cols), &a, lda, &tau), "dgeqrf")
        var r = ColumnMajorMatrix(rows: k, cols: cols)
        if k > 0 { for j in 0..<cols { for i in 0...Swift.min(j, k - 1) { r[i, j] = a[i + j * rows] } } }
        var q = Array(a[0..<(rows * k)])
        try Self.check(lk_dorgqr(Int32(rows), Int32(k), Int32(k), &q, lda, &tau), "dorgqr")
        return (ColumnMajorMatrix(rows: rows, cols: k, data: q), r)
    }
}

extension Tensor {
    private func requireMatrix(_ operation: String) throws {
        guard rank == 2 else {
            throw DecompositionError.invalidShape(operation: operation, shape: shape, detail: "needs a matrix")
        }
    }

    /// Thin singular value decomposition, computed in `Double` with LAPACK's `dgesdd`.
    ///
    /// For `self` `[m, n]` and `k = min(m, n)`: `u [m, k]`, `s [k]` (descending), `vt [k, n]` with
    /// `self = u · diag(s) · vt` (as `torch.linalg.svd(full_matrices=False)`). No gradient.
    /// - Throws: ``DecompositionError`` when `self` is not a matrix, LAPACK is missing or does not converge.
    public func svd() throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        try requireMatrix("svd")
        let (u, s, vt) = try ColumnMajorMatrix(self).svd()
        return (u.tensor(), Tensor(s.map { Float($0) }, shape: [s.count]), vt.tensor())
    }

    /// Reduced QR decomposition, computed in `Double` with LAPACK's `dgeqrf` + `dorgqr`.
    ///
    /// For `self` `[m, n]` and `k = min(m, n)`: `q [m, k]` with orthonormal columns and `r [k, n]` upper
    /// triangular with `self = q · r` (the same sign convention as `torch.linalg.qr`). No gradient.
    public func qr() throws -> (q: Tensor, r: Tensor) {
        try requireMatrix("qr")
        let (q, r) = try ColumnMajorMatrix(self).qr()
        return (q.tensor(), r.tensor())
    }

    /// Randomized rank-`rank` SVD (Halko et al.), the algorithm of `torch.svd_lowrank(A, q: rank, niter:)`:
    /// a Gaussian sketch `[n, rank]` (seeded ``SplitMix64``), `iterations` power iterations with QR
    /// re-orthonormalisation, then an exact SVD of the small projected matrix. Returns `u [m, rank]`,
    /// `s [rank]`, `vt [rank, n]`. It approximates the top-`rank` triplets; more iterations are closer.
    public func randomizedSVD(rank r: Int, iterations: Int, seed: UInt64) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        try requireMatrix("randomizedSVD")
        guard r >= 1, r <= Swift.min(shape[0], shape[1]), iterations >= 0 else {
            throw DecompositionError.invalidShape(operation: "randomizedSVD", shape: shape,
                                                  detail: "rank \(r) must be in 1...min(rows, cols) and iterations >= 0")
        }
        // Like torch, work on the tall orientation.
        let wide = shape[0] < shape[1]
        let a = wide ? ColumnMajorMatrix(self).transposed : ColumnMajorMatrix(self)
        let at = a.transposed
        let sketch = Tensor.randomNormal([a.cols, r], seed: seed)
        var q = try a.times(ColumnMajorMatrix(sketch)).qr().q
        for _ in 0..<iterations {
            q = try at.times(q).qr().q
            q = try a.times(q).qr().q
        }
        let small = q.transposed.times(a)                       // [r, n]
        let (u, s, vt) = try small.svd()
        let uFull = q.times(u)                                  // [m, r]
        let sTensor = Tensor(s.map { Float($0) }, shape: [s.count])
        if wide { return (vt.transposed.tensor(), sTensor, uFull.transposed.tensor()) }
        return (uFull.tensor(), sTensor, vt.tensor())
    }
}
