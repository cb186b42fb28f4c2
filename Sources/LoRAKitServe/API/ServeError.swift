import Foundation
import Hummingbird

/// Every error the server answers with, as OpenAI-style JSON `{"error": {"message", "type", "param", "code"}}`.
///
/// | status | when |
/// |---|---|
/// | 400 | the body is not JSON, or not a JSON object; a bad adapter folder in `load_lora_adapter` |
/// | 401 | `--api-key` is set and the request has no `Authorization: Bearer <key>` with it |
/// | 404 | unknown `model`, adapter or route |
/// | 405 | a known route with the wrong method |
/// | 409 | `load_lora_adapter` with a name already in use |
/// | 413 | the body is larger than `--max-body-kb` |
/// | 422 | a field is missing, has the wrong type or is out of range; the prompt does not fit the context |
/// | 429 | the waiting queue is full, or every `--max-loras` slot is busy |
/// | 503 | the server is shutting down |
public enum ServeError: Error, CustomStringConvertible, Equatable, Sendable {
    case malformedJSON(String)
    case unauthorized
    case unknownModel(String, available: [String])
    case notFound(String)
    case methodNotAllowed(String)
    case conflict(String)
    case bodyTooLarge(limit: Int)
    case missingField(String)
    case invalidField(String, String)
    case contextLengthExceeded(String)
    case overloaded(String)
    case adapterUnavailable(String)
    case shuttingDown
    case `internal`(String)

    public var description: String { message }

    public var message: String {
        switch self {
        case .malformedJSON(let detail): return "the request body is not valid JSON: \(detail)"
        case .unauthorized: return "missing or wrong API key; send 'Authorization: Bearer <key>'"
        case let .unknownModel(name, available):
            return "the model '\(name)' does not exist; available: \(available.joined(separator: ", "))"
        case .notFound(let path): return "no route \(path); see GET /v1/models and docs/serve.md"
        case .methodNotAllowed(let text): return text
        case .conflict(let text): return text
        case .bodyTooLarge(let limit): return "the request body is larger than the limit of \(limit) bytes"
        case .missingField(let field): return "'\(field)' is required"
        case let .invalidField(field, reason): return "'\(field)' \(reason)"
        case .contextLengthExceeded(let text): return text
        case .overloaded(let text): return text
        case .adapterUnavailable(let text): return text
        case .shuttingDown: return "the server is shutting down; retry on another instance"
        case .internal(let text): return "internal error: \(text)"
        }
    }

    public var status: HTTPResponse.Status {
        switch self {
        case .malformedJSON, .adapterUnavailable: return .badRequest
        case .unauthorized: return .unauthorized
        case .unknownModel, .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .bodyTooLarge: return .contentTooLarge
        case .missingField, .invalidField, .contextLengthExceeded: return .unprocessableContent
        case .overloaded: return .tooManyRequests
        case .shuttingDown: return .serviceUnavailable
        case .internal: return .internalServerError
        }
    }

    var type: String {
        switch self {
        case .unauthorized: return "authentication_error"
        case .unknownModel, .notFound: return "not_found_error"
        case .overloaded: return "rate_limit_error"
        case .shuttingDown, .internal: return "server_error"
        default: return "invalid_request_error"
        }
    }

    var param: String? {
        switch self {
        case .missingField(let field), .invalidField(let field, _): return field
        case .unknownModel: return "model"
        default: return nil
        }
    }

    var code: String? {
        switch self {
        case .unknownModel: return "model_not_found"
        case .contextLengthExceeded: return "context_length_exceeded"
        case .unauthorized: return "invalid_api_key"
        case .bodyTooLarge: return "request_too_large"
        default: return nil
        }
    }

    /// The JSON body.
    var body: Data {
        let payload = ErrorPayload(error: .init(message: message, type: type, param: param, code: code))
        return (try? JSONEncoder.serve.encode(payload)) ?? Data("{\"error\":{\"message\":\"error\"}}".utf8)
    }
}

struct ErrorPayload: Codable {
    struct Detail: Codable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)  // explicit null, as OpenAI
            try c.encode(code, forKey: .code)
        }
    }
    var error: Detail
}

extension ServeError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension JSONEncoder {
    /// Compact JSON with sorted keys (stable output).
    static var serve: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}
