/// Finds stop strings in streamed text without ever emitting part of one.
///
/// Text arrives in pieces (one decoded token at a time). A piece that could be the beginning of a stop
/// string is held back until the next pieces decide it: either the stop string completes (generation ends and
/// the stop string is not emitted, as in OpenAI's API) or the text diverges and is released.
public struct StopStringMatcher: Sendable {
    public let stops: [String]
    private var pending = ""

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// The outcome of feeding one piece of text.
    public enum Step: Equatable, Sendable {
        /// Text safe to emit now (possibly empty).
        case emit(String)
        /// A stop string completed: emit this last text (before the stop string), then stop.
        case stop(String)
    }

    /// Feeds the next decoded piece.
    public mutating func feed(_ piece: String) -> Step {
        pending += piece
        if stops.isEmpty { defer { pending = "" }; return .emit(pending) }
        // The earliest complete stop string wins.
        var earliest: String.Index?
        for stop in stops {
            if let range = pending.range(of: stop), earliest.map({ range.lowerBound < $0 }) ?? true {
                earliest = range.lowerBound
            }
        }
        if let cut = earliest {
            let text = String(pending[..<cut])
            pending = ""
            return .stop(text)
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        let held = longestSuffixThatStartsAStop()
        let release = pending.index(pending.endIndex, offsetBy: -held)
        let text = String(pending[..<release])
        pending = String(pending[release...])
        return .emit(text)
    }

    /// Releases what is held back when generation ends for another reason (EOS, length).
    public mutating func finish() -> String {
        defer { pending = "" }
        return pending
    }

    private func longestSuffixThatStartsAStop() -> Int {
        let characters = Array(pending)
        var best = 0
        for stop in stops {
            let stopCharacters = Array(stop)
            let maxLength = min(stopCharacters.count - 1, characters.count)
            guard maxLength > best else { continue }
            for length in stride(from: maxLength, to: best, by: -1)
            where Array(characters[(characters.count - length)...]) == Array(stopCharacters[..<length]) {
                best = length
                break
            }
        }
        return best
    }
}
