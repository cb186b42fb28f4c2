import LoRAKitModels
import LoRAKitTokenizers

/// One request's state inside the engine: its tokens, its cache blocks and its sampling/decoding state.
final class EngineSequence {
    let id: Int
    let request: EngineRequest
    let continuation: AsyncStream<EngineEvent>.Continuation
    /// Prompt, then generated tokens.
    var tokens: [Int32]
    /// Positions of `tokens` already in the cache.
    var cached = 0
    var blocks: [Int] = []
    var generated: [Int32] = []
    var sampler: Sampler
    var decoder: StreamingDecoder
    var matcher: StopStringMatcher
    let stopIDs: Set<Int32>

    init(id: Int, request: EngineRequest, tokenizer: BPETokenizer, stopIDs: Set<Int32>,
         continuation: AsyncStream<EngineEvent>.Continuation) {
        (self.id, self.request, self.continuation) = (id, request, continuation)
        tokens = request.prompt
        sampler = Sampler(request.parameters.sampling)
        decoder = StreamingDecoder(tokenizer, skipSpecialTokens: true)
        matcher = StopStringMatcher(stops: request.parameters.stopStrings)
        self.stopIDs = request.parameters.stopTokenIDs ?? stopIDs
    }

    /// Tokens not yet in the cache (≥ 1 while running: the prompt, or the last sampled token).
    var pending: Int { tokens.count - cached }
    var adapterID: Int { request.adapter?.entry.id ?? -1 }
    var adapterName: String { request.adapter?.name ?? "" }

    /// Takes one sampled token. Returns the finish reason when the sequence is done.
    func accept(_ token: Int32, contextLimit: Int) -> FinishReason? {
        generated.append(token)
        if stopIDs.contains(token) { flush(); return .stop }
        tokens.append(token)
        switch matcher.feed(decoder.append(token)) {
        case .emit(let piece): emit(piece)
        case .stop(let piece): emit(piece); return .stop
        }
        if generated.count >= request.parameters.maxTokens || tokens.count >= contextLimit {
            flush()
            return .length
        }
        return nil
    }

    /// Emits text held back by the decoder and the stop matcher at the end of the sequence.
    private func flush() {
        switch matcher.feed(decoder.finish()) {
        case .emit(let piece): emit(piece); emit(matcher.finish())
        case .stop(let piece): emit(piece)
        }
    }

    private func emit(_ piece: String) {
        if !piece.isEmpty { continuation.yield(.text(piece)) }
    }
}
