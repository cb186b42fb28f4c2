import Testing
@testable import LoRAKitModels

@Suite struct StopStringMatcherTests {
    func run(_ pieces: [String], stops: [String]) -> (text: String, stopped: Bool) {
        var matcher = StopStringMatcher(stops: stops)
        var text = ""
        for piece in pieces {
            switch matcher.feed(piece) {
            case .emit(let part): text += part
            case .stop(let part): return (text + part, true)
            }
        }
        return (text + matcher.finish(), false)
    }

    @Test func stopSplitAcrossPiecesIsNeverEmitted() {
        let result = run(["Hello", " wor", "ld\n\nUs", "er: hi"], stops: ["\n\nUser:"])
        #expect(result == ("Hello world", true))
    }

    @Test func heldBackTextIsReleasedWhenItDiverges() {
        var matcher = StopStringMatcher(stops: ["END"])
        #expect(matcher.feed("The EN") == .emit("The "))
        #expect(matcher.feed("D") == .stop(""))
        var other = StopStringMatcher(stops: ["END"])
        #expect(other.feed("The EN") == .emit("The "))
        #expect(other.feed("TRY") == .emit("ENTRY"))
    }

    @Test func earliestOfSeveralStopsWins() {
        #expect(run(["a STOP b HALT"], stops: ["HALT", "STOP"]) == ("a ", true))
    }

    @Test func noStopsPassesEverythingThrough() {
        #expect(run(["x", "y"], stops: []) == ("xy", false))
        #expect(run(["x", "E"], stops: ["END"]) == ("xE", false))
    }
}
