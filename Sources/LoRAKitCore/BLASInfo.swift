import CBLAS

/// Which BLAS LoRAKit is using and what the CPU offers (shown by `lorakit bench kernels`).
public struct BLASInfo: Codable, Sendable, Equatable {
    /// Library path or name (e.g. `libopenblas.so.0`, `Accelerate`).
    public var library: String
    /// The kernel family OpenBLAS chose (e.g. `SkylakeX`, `Cooperlake`, `Haswell`).
    public var coreName: String
    /// The `OPENBLAS_CORETYPE` LoRAKit set before loading the library, or `nil` if it set none.
    public var coreTypeSet: String?
    /// OpenBLAS's build configuration string.
    public var configuration: String
    /// Why the library failed to load, or `nil`.
    public var loadError: String?
    public var avx2: Bool
    public var fma: Bool
    public var avx512: Bool
    public var avx512bf16: Bool

    /// The BLAS in use by this process (loads it if needed).
    public static var current: BLASInfo {
        let error = lk_blas_load() == 0 ? nil : lk_blas_error().map { String(cString: $0) }
        return BLASInfo(library: String(cString: lk_blas_library()), coreName: String(cString: lk_blas_core_name()),
                        coreTypeSet: lk_blas_coretype_set().map { String(cString: $0) },
                        configuration: String(cString: lk_blas_config()), loadError: error,
                        avx2: lk_cpu_has_avx2() != 0, fma: lk_cpu_has_fma() != 0,
                        avx512: lk_cpu_has_avx512f() != 0 && lk_cpu_has_avx512bw() != 0 && lk_cpu_has_avx512vl() != 0,
                        avx512bf16: lk_cpu_has_avx512bf16() != 0)
    }
}
