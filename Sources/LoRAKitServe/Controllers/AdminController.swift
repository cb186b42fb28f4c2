import Foundation
import Hummingbird

/// `GET /v1/models`, `POST /v1/load_lora_adapter`, `POST /v1/unload_lora_adapter`, `GET /health`, `GET /metrics`.
struct AdminController: Sendable {
    let engine: Engine
    let options: ServerOptions
    let stats: HTTPStats
    let started = Int(Date().timeIntervalSince1970)

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in
            try json(["status": "ok"])
        }
        router.get("/v1/models") { _, _ in
            let base = ModelList.Model(id: options.modelName, created: started, root: options.modelName, parent: nil)
            let adapters = engine.registry.names.map {
                ModelList.Model(id: $0, created: started, root: $0, parent: options.modelName)
            }
            return try json(ModelList(data: [base] + adapters))
        }
        router.post("/v1/load_lora_adapter") { request, _ in
            let body = try JSONDecoder.request(AdapterRequest.self,
                                               from: try await BodyReader.read(request, limit: options.maxBodyBytes))
            guard let path = body.path, !path.isEmpty else { throw ServeError.missingField("lora_path") }
            guard body.name != options.modelName else {
                throw ServeError.conflict("'\(body.name)' is the base model's name")
            }
            do {
                try engine.registry.register(name: body.name, path: URL(fileURLWithPath: path))
            } catch let error as ServeError { throw error } catch {
                throw ServeError.adapterUnavailable("cannot load adapter '\(body.name)': \(error)")
            }
            return try json(AdapterResponse(loraName: body.name, message: "adapter '\(body.name)' loaded"))
        }
        router.post("/v1/unload_lora_adapter") { request, _ in
            let body = try JSONDecoder.request(AdapterRequest.self,
                                               from: try await BodyReader.read(request, limit: options.maxBodyBytes))
            try engine.registry.unregister(name: body.name)
            return try json(AdapterResponse(loraName: body.name, message: "adapter '\(body.name)' unloaded"))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: Metrics.render(engine: engine, http: stats))))
        }
    }

    private func json(_ value: some Encodable) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.serve.encode(value))))
    }
}
