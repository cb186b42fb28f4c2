import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import LoRAKitServe

/// Random and malformed bodies on every POST route: each gets a well-formed answer (200 or an OpenAI-style error
/// with a 4xx status), never a 5xx or a crash, and the server keeps serving.
@Suite struct FuzzTests {
    static let seeds = [
        #"{"model":"smollm2-135m","prompt":"Hello","max_tokens":2,"temperature":0.5,"top_p":0.9,"seed":3,"stop":["x"]}"#,
        #"{"model":"qv","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"stream":true}"#,
        #"{"model":"rs","messages":[{"role":"system","content":[{"type":"text","text":"Be brief"}]},{"role":"user","content":"Hi"}],"max_tokens":1}"#,
        #"{"lora_name":"fuzz","lora_path":"/tmp"}"#,
    ]
    static let routes = ["/v1/completions", "/v1/chat/completions", "/v1/load_lora_adapter", "/v1/unload_lora_adapter"]
    static let fragments = ["null", "true", "-1", "1e400", "\"\"", "[]", "{}", "\"\\u0000\"", "0.0", "9999999999999",
                            "[[[[[[[[", "\"\u{1F600}\"", "{\"role\":1}", "-0", "\"smollm2-135m\""]

    /// Deterministic pseudo-random numbers.
    struct Generator {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
    }

    static func mutate(_ seed: String, _ g: inout Generator) -> [UInt8] {
        var bytes = Array(seed.utf8)
        switch g.next(6) {
        case 0:  // random bytes
            return (0..<g.next(64)).map { _ in UInt8(g.next(256)) }
        case 1:  // truncate
            return Array(bytes.prefix(g.next(bytes.count)))
        case 2:  // flip some bytes
            for _ in 0...g.next(4) { bytes[g.next(bytes.count)] = UInt8(g.next(256)) }
            return bytes
        default:  // replace a JSON value with an odd one
            var text = seed
            let colons = text.indices.filter { text[$0] == ":" }
            guard let colon = colons.isEmpty ? nil : colons[g.next(colons.count)] else { return bytes }
            let start = text.index(after: colon)
            var end = start
            var depth = 0
            while end < text.endIndex {
                let c = text[end]
                if c == "[" || c == "{" { depth += 1 }
                if c == "]" || c == "}" { if depth == 0 { break }; depth -= 1 }
                if c == "," && depth == 0 { break }
                end = text.index(after: end)
            }
            text.replaceSubrange(start..<end, with: fragments[g.next(fragments.count)])
            return Array(text.utf8)
        }
    }

    @Test func randomBodiesNeverBreakTheServer() async throws {
        var options = ServeFixture.options
        options.maxTokens = 3
        let app = Application(router: ServeApplication.router(engine: try ServeFixture.engine(), options: options))
        try await app.test(.router) { client in
            var g = Generator(state: 42)
            var statuses: [Int: Int] = [:]
            for i in 0..<240 {
                let route = Self.routes[i % Self.routes.count]
                let body = Self.mutate(Self.seeds[g.next(Self.seeds.count)], &g)
                try await client.execute(uri: route, method: .post, body: ByteBuffer(bytes: body)) { response in
                    let code = Int(response.status.code)
                    statuses[code, default: 0] += 1
                    #expect(code == 200 || (400..<500).contains(code), "\(route) \(String(decoding: body, as: UTF8.self)) → \(code)")
                    if code != 200 {
                        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                        #expect((object as? [String: Any])?["error"] != nil)
                    }
                }
            }
            #expect(statuses.keys.contains(400) && statuses.keys.contains(422))
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            let ok = #"{"model":"smollm2-135m","prompt":"Hi","max_tokens":1}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: ok)) {
                #expect($0.status == .ok)
            }
        }
    }
}
