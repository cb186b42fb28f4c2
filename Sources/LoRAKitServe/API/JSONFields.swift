import Foundation

/// A coding key for any field name.
struct FieldKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Field reading that turns every decoding failure into a ``ServeError`` naming the field.
struct Fields {
    let container: KeyedDecodingContainer<FieldKey>
    /// Prefix for nested fields (`messages[2].`).
    let path: String

    init(_ decoder: any Decoder, path: String = "") throws {
        do { container = try decoder.container(keyedBy: FieldKey.self) } catch {
            throw path.isEmpty ? ServeError.malformedJSON("expected a JSON object")
                : ServeError.invalidField(String(path.dropLast()), "must be an object")
        }
        self.path = path
    }

    func has(_ name: String) -> Bool {
        let key = FieldKey(name)
        return container.contains(key) && !((try? container.decodeNil(forKey: key)) ?? true)
    }

    /// The value, or `nil` when absent or `null`. - Throws: ``ServeError/invalidField(_:_:)`` on a wrong type.
    func optional<T: Decodable>(_ name: String, _ what: String) throws -> T? {
        guard has(name) else { return nil }
        do { return try container.decode(T.self, forKey: FieldKey(name)) } catch let error as ServeError {
            throw error
        } catch {
            throw ServeError.invalidField(path + name, "must be \(what)")
        }
    }

    func required<T: Decodable>(_ name: String, _ what: String) throws -> T {
        guard let value: T = try optional(name, what) else { throw ServeError.missingField(path + name) }
        return value
    }

    /// A number in `range` (integers accepted).
    func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value: Double = try optional(name, "a number") else { return nil }
        guard value.isFinite, range.contains(value) else {
            throw ServeError.invalidField(path + name, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func integer(_ name: String, atLeast minimum: Int) throws -> Int? {
        guard let value: Double = try optional(name, "an integer") else { return nil }
        guard value.rounded() == value, value >= Double(minimum), value <= Double(Int32.max) else {
            throw ServeError.invalidField(path + name, "must be an integer ≥ \(minimum), got \(value)")
        }
        return Int(value)
    }

    /// `stop`: a string or an array of up to 4 strings.
    func stops(_ name: String) throws -> [String] {
        guard has(name) else { return [] }
        if let one = try? container.decode(String.self, forKey: FieldKey(name)) { return one.isEmpty ? [] : [one] }
        guard let many = try? container.decode([String].self, forKey: FieldKey(name)), many.count <= 4 else {
            throw ServeError.invalidField(path + name, "must be a string or an array of at most 4 strings")
        }
        return many.filter { !$0.isEmpty }
    }
}

extension JSONDecoder {
    /// Decodes a request body, mapping syntax errors to 400 and field errors to 422.
    static func request<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch let error as ServeError {
            throw error
        } catch DecodingError.dataCorrupted(let context) {
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw ServeError.malformedJSON(detail ?? context.debugDescription)
        } catch {
            throw ServeError.malformedJSON("\(error)")
        }
    }
}
