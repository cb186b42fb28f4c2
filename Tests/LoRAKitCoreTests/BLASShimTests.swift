import CBLAS
import Testing

@Suite struct BLASShimTests {
    @Test func libraryLoads() {
        #expect(lk_blas_load() == 0, "BLAS did not load: \(lk_blas_error().map { String(cString: $0) } ?? "")")
    }

    /// [1 2; 3 4] · [5 6; 7 8]ᵀ = [17 23; 39 53].
    @Test func sgemmWithTransposedB() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        lk_sgemm(0, 1, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [17, 23, 39, 53])
    }
}
