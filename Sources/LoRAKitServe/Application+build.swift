import Foundation
import Hummingbird
import Logging

/// Builds the OpenAI-compatible server around an ``Engine``.
///
/// ```swift
/// let engine = try Engine(languageModel: lm, registry: registry, configuration: EngineConfiguration())
/// let app = ServeApplication.build(engine: engine, options: ServerOptions(modelName: "smollm2-135m"),
///                                  host: "127.0.0.1", port: 8000)
/// try await app.runService()          // SIGTERM/SIGINT: stop accepting, finish in-flight requests
/// ```
public enum ServeApplication {
    /// The router with every route and the error, auth and counting middleware.
    public static func router(engine: Engine, options: ServerOptions,
                              stats: HTTPStats = HTTPStats()) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware(stats: stats))
        router.add(middleware: APIKeyMiddleware(key: options.apiKey))
        GenerateController(engine: engine, options: options, stats: stats).addRoutes(to: router)
        AdminController(engine: engine, options: options, stats: stats).addRoutes(to: router)
        return router
    }

    /// The application, bound to `host:port`.
    public static func build(engine: Engine, options: ServerOptions, host: String, port: Int,
                             logger: Logger? = nil) -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "lorakit.serve")
        if logger == nil { log.logLevel = .warning }
        return Application(router: router(engine: engine, options: options),
                           configuration: .init(address: .hostname(host, port: port), serverName: "lorakit"),
                           logger: log)
    }
}

/// Turns every error into an OpenAI-style JSON body with the right status, and counts responses.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let stats: HTTPStats

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = Self.knownRoutes.contains(request.uri.path) ? request.uri.path : "other"
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let serveError: ServeError
            switch error {
            case let e as ServeError: serveError = e
            case let e as HTTPResponseError where e.status == .notFound:
                serveError = Self.knownRoutes.contains(request.uri.path)
                    ? .methodNotAllowed("\(request.method) is not allowed on \(request.uri.path)")
                    : .notFound("\(request.method) \(request.uri.path)")
            case let e as HTTPResponseError where e.status == .contentTooLarge: serveError = .bodyTooLarge(limit: 0)
            case let e as HTTPResponseError where e.status == .unauthorized: serveError = .unauthorized
            default: serveError = .internal(String(describing: error))
            }
            stats.record(route: route, status: Int(serveError.status.code))
            return Response(status: serveError.status, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: serveError.body)))
        }
        stats.record(route: route, status: Int(response.status.code))
        return response
    }

    static var knownRoutes: Set<String> {
        ["/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/load_lora_adapter", "/v1/unload_lora_adapter",
         "/health", "/metrics"]
    }
}

/// `--api-key`: every `/v1/*` route needs `Authorization: Bearer <key>` (`/health` and `/metrics` stay open, as
/// in vLLM).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key, request.uri.path.hasPrefix("/v1") {
            let given = request.headers[.authorization] ?? ""
            guard Self.constantTimeEqual(Array(given.utf8), Array("Bearer \(key)".utf8)) else {
                throw ServeError.unauthorized
            }
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return difference == 0
    }
}
