import Foundation
import Testing
@testable import LoRAKitFormats

/// The real default model (fetched by `make test` / `make model`), against gguf-py reference values in
/// Tests/Fixtures/formats/smollm2_reference.json.
/// smollm2_reference.json (JSONDecoder parses doubles exactly; Linux JSONSerialization does not).
struct ModelReference: Decodable {
    struct Tensor: Decodable {
        var type: String
        var shape: [Int]
        var sum: Double
        var abs_sum: Double
        var rows: [String: [Double]]
    }
    var tensor_count: Int
    var tensors: [String: Tensor]
}

@Suite(.enabled(if: Fixtures.smolLM2 != nil,
                "SmolLM2-135M-Instruct.Q4_1.gguf not found under $LORAKIT_HOME (default ~/.cache/lorakit); run `make model`"))
struct SmolLM2GGUFTests {
    let gguf: GGUFFile
    init() throws {
        let url = try #require(Fixtures.smolLM2)
        gguf = try GGUFFile(url: url)
    }

    @Test func metadata() throws {
        let m = gguf.metadata
        #expect(gguf.version == 3)
        #expect(gguf.tensors.count == 272)
        #expect(m.count == 33)
        #expect(m.string("general.architecture") == "llama")
        #expect(m.int("llama.block_count") == 30)
        #expect(m.int("llama.embedding_length") == 576)
        #expect(m.int("llama.feed_forward_length") == 1536)
        #expect(m.int("llama.attention.head_count") == 9)
        #expect(m.int("llama.attention.head_count_kv") == 3)
        #expect(m.int("llama.context_length") == 8192)
        #expect(m.int("llama.vocab_size") == 49152)
        #expect(m.float("llama.rope.freq_base") == 100_000)
        #expect(m.float("llama.attention.layer_norm_rms_epsilon") == 1e-5)
        #expect(m.string("tokenizer.ggml.model") == "gpt2")
        #expect(m.string("tokenizer.ggml.pre") == "smollm")
        #expect(m.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(m.int("tokenizer.ggml.bos_token_id") == 1)
        #expect(m.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(m.stringArray("general.languages") == ["en"])
        let tokens = try m.requireStringArray("tokenizer.ggml.tokens")
        #expect(tokens.count == 49152)
        #expect(Array(tokens.prefix(3)) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(tokens.last == "ectable")
        let merges = try #require(m.stringArray("tokenizer.ggml.merges"))
        #expect(merges.count == 48900)
        #expect(merges.first == "Ġ t")
        let types = try #require(m.intArray("tokenizer.ggml.token_type"))
        #expect(types.count == 49152)
        #expect(m.string("tokenizer.chat_template")?.contains("<|im_start|>assistant") == true)
        #expect(throws: FormatError.self) { try m.requireInt("general.architecture") }
        #expect(throws: FormatError.self) { try m.requireString("llama.no_such_key") }
    }

    @Test func tensorTable() throws {
        let counts = Dictionary(grouping: gguf.tensors, by: \.type).mapValues(\.count)
        #expect(counts == [.q4_1: 210, .q8_0: 1, .f32: 61])
        let embedding = try gguf.tensor(named: "token_embd.weight")
        #expect(embedding.shape == [49152, 576])
        #expect(embedding.ggmlDimensions == [576, 49152])
        #expect(embedding.rowCount == 49152 && embedding.rowLength == 576)
        #expect(try gguf.tensor(named: "blk.0.ffn_down.weight").shape == [576, 1536])
        #expect(try gguf.tensor(named: "blk.0.attn_k.weight").shape == [192, 576])
        let parameters = gguf.tensors.reduce(0) { $0 + $1.elementCount }
        #expect(parameters == 134_515_008)
        #expect(throws: FormatError.self) { try gguf.tensor(named: "output.weight") }
    }

    @Test(arguments: ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight",
                      "blk.0.attn_norm.weight", "output_norm.weight"])
    func dequantizedValuesMatchGGUFPy(_ name: String) throws {
        let reference = try Fixtures.decode(ModelReference.self, "smollm2_reference.json")
        let expected = try #require(reference.tensors[name])
        let info = try gguf.tensor(named: name)
        #expect(info.type.name == expected.type)
        #expect(info.shape == expected.shape)
        let values = try gguf.dequantize(info)
        #expect(expected.rows.count == (info.rowCount > 1 ? 4 : 1))
        for (row, first64) in expected.rows {
            let r = try #require(Int(row))
            let start = r * info.rowLength
            let got = values[start ..< start + first64.count].map(Double.init)
            #expect(got == first64, "row \(r) of \(name)")
            let viaRows = try gguf.dequantizeRows(info, rows: r ..< r + 1)
            #expect(Array(viaRows.prefix(first64.count)).map(Double.init) == first64)
        }
        var sum = 0.0, absSum = 0.0
        for v in values { sum += Double(v); absSum += Double(abs(v)) }
        let expectedSum = expected.sum, expectedAbs = expected.abs_sum
        #expect(abs(sum - expectedSum) <= 1e-9 * expectedAbs)
        #expect(abs(absSum - expectedAbs) <= 1e-9 * expectedAbs)
    }

    /// Dequantizes every tensor of the model (134.5 M parameters) and reports the time; no timing assertion.
    @Test func wholeModelDequantizes() throws {
        var total = 0
        var buffer = [Float](repeating: 0, count: gguf.tensors.map(\.elementCount).max() ?? 0)
        let clock = ContinuousClock()
        var embeddingTime = Duration.zero, q41Time = Duration.zero
        for info in gguf.tensors {
            let elapsed = try clock.measure {
                try buffer.withUnsafeMutableBufferPointer {
                    try gguf.dequantize(info, into: UnsafeMutableBufferPointer(rebasing: $0[0 ..< info.elementCount]))
                }
            }
            if info.type == .q8_0 { embeddingTime += elapsed }
            if info.type == .q4_1 { q41Time += elapsed }
            total += info.elementCount
        }
        #expect(total == 134_515_008)
        let embedding = try gguf.tensor(named: "token_embd.weight")
        let oneThread = try clock.measure {
            try buffer.withUnsafeMutableBufferPointer {
                try gguf.dequantize(embedding, into: UnsafeMutableBufferPointer(rebasing: $0[0 ..< embedding.elementCount]),
                                    threads: 1)
            }
        }
        print("SmolLM2 token_embd Q8_0 on 1 thread: \(oneThread)")
        print("SmolLM2 dequantization: Q8_0 token_embd (28.3M) \(embeddingTime), 210 Q4_1 matrices \(q41Time), "
              + "threads \(ProcessInfo.processInfo.activeProcessorCount)")
    }
}
