import Foundation
import LoRAKitCore
import LoRAKitFormats

/// A small reader of `.safetensors` files into `Float` tensors (F32, F16, BF16), used to load Hugging Face
/// checkpoints and test fixtures. Internal until LoRAKitFormats' reader is merged.
struct SafetensorsTensors {
    struct Entry { let dtype: String; let shape: [Int]; let start: Int; let end: Int }
    let url: URL
    let data: Data
    let entries: [String: Entry]
    let dataStart: Int

    var names: [String] { entries.keys.sorted() }

    init(url: URL) throws {
        self.url = url
        func fail(_ reason: String) -> ModelLoadingError { .unreadable(path: url.path, reason: reason) }
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw fail(error.localizedDescription)
        }
        guard data.count >= 8 else { throw fail("file too short for a safetensors header") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) exceeds the file") }
        dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any]
        else { throw fail("header is not a JSON object") }
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let o = value as? [String: Any], let dtype = o["dtype"] as? String,
                  let shape = (o["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (o["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], dataStart + offsets[1] <= data.count
            else { throw fail("bad header entry for '\(name)'") }
            entries[name] = Entry(dtype: dtype, shape: shape, start: offsets[0], end: offsets[1])
        }
        self.entries = entries
    }

    /// The tensor called `name` converted to `Float`.
    func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else { throw ModelLoadingError.missingTensor(name: name, file: url.path) }
        let count = e.shape.reduce(1, *)
        let width: Int
        switch e.dtype {
        case "F32": width = 4
        case "F16", "BF16": width = 2
        default:
            throw ModelLoadingError.unreadable(path: url.path, reason: "tensor '\(name)' has dtype \(e.dtype); "
                                               + "supported: F32, F16, BF16")
        }
        guard e.end - e.start == count * width else {
            throw ModelLoadingError.unreadable(path: url.path, reason: "tensor '\(name)' byte size disagrees with its shape")
        }
        var t = Tensor(uninitializedShape: e.shape)
        data.withUnsafeBytes { raw in
            let src = raw.baseAddress! + dataStart + e.start
            t.withUnsafeMutableBufferPointer { dst in
                switch e.dtype {
                case "F32": memcpy(dst.baseAddress!, src, count * 4)
                case "F16":
                    for i in 0..<count { dst[i] = HalfConversion.float(fromHalf: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
                default:
                    for i in 0..<count { dst[i] = HalfConversion.float(fromBFloat16: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
                }
            }
        }
        return t
    }
}
