import Foundation
import Testing
@testable import LoRAKitModels

@Suite struct ModelStoreTests {
    func temporaryStore() throws -> ModelStore {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lorakit-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        return ModelStore(home: home)
    }

    @Test func unknownNameNamesTheKnownModels() throws {
        let store = try temporaryStore()
        let error = #expect(throws: ModelStoreError.self) { try store.resolve("no-such-model") }
        #expect(error?.message.contains("smollm2-135m") == true)
    }

    @Test func knownButNotPulledSaysHowToPull() throws {
        let store = try temporaryStore()
        let error = #expect(throws: ModelStoreError.self) { try store.resolve("smollm2-135m") }
        #expect(error?.message.contains("lorakit pull smollm2-135m") == true)
    }

    @Test func importFromLocalFileThenResolveByName() throws {
        let store = try temporaryStore()
        let source = store.home.appendingPathComponent("tiny.gguf")
        try Data("GGUF".utf8).write(to: source)
        let pulled = try store.pull("tiny", from: source)
        #expect(try store.resolve("tiny") == pulled)
        #expect(try store.resolve(source.path) == source)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: pulled.deletingLastPathComponent().path)
        #expect(leftovers == ["tiny.gguf"])
    }
}
