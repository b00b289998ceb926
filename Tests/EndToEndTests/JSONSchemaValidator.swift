import Foundation

/// A JSON value as decoded, with booleans and numbers kept apart (JSONSerialization merges them into NSNumber).
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) } else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) } else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Parses one JSON document.
    static func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): "boolean \(b)"
        case let .number(n): "number \(n)"
        case let .string(s): "\"\(s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A validator for the subset of JSON Schema that docs/json/ uses: `type` (one name or a list), `properties`,
/// `required`, `items`, `enum`, `additionalProperties` (a boolean or a schema), `minimum` and `pattern`. Any other
/// keyword in a schema is reported, so a schema cannot silently ask for more than is checked.
enum JSONSchemaValidator {
    static let knownKeywords: Set<String> = ["$schema", "$id", "title", "description", "type", "properties", "required",
                                             "items", "enum", "additionalProperties", "minimum", "pattern"]

    /// Every way `value` breaks `schema`, as "path: why"; empty when it conforms.
    static func errors(_ value: JSONValue, schema: JSONValue, path: String = "$") -> [String] {
        guard case let .object(s) = schema else { return ["\(path): the schema is not an object"] }
        var errors = s.keys.filter { !knownKeywords.contains($0) }.sorted().map { "\(path): unsupported keyword \($0)" }
        if let type = s["type"] {
            let names: [String] = switch type {
            case let .string(name): [name]
            case let .array(list): list.compactMap { if case let .string(n) = $0 { n } else { nil } }
            default: []
            }
            if !names.contains(where: { matches(value, type: $0) }) {
                return errors + ["\(path): expected \(names.joined(separator: " or ")), found \(value)"]
            }
        }
        if case let .array(options)? = s["enum"], !options.contains(value) {
            errors.append("\(path): \(value) is not one of \(options.map(\.description).joined(separator: ", "))")
        }
        if case let .number(minimum)? = s["minimum"], case let .number(n) = value, n < minimum {
            errors.append("\(path): \(n) is below \(minimum)")
        }
        if case let .string(pattern)? = s["pattern"], case let .string(text) = value,
           text.range(of: pattern, options: .regularExpression) == nil {
            errors.append("\(path): \"\(text)\" does not match \(pattern)")
        }
        if case let .object(object) = value {
            var properties: [String: JSONValue] = [:]
            if case let .object(p)? = s["properties"] { properties = p }
            if case let .array(required)? = s["required"] {
                for case let .string(key) in required where object[key] == nil { errors.append("\(path): missing required \(key)") }
            }
            for (key, item) in object.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[key] {
                    errors += Self.errors(item, schema: sub, path: "\(path).\(key)")
                } else if let extra = s["additionalProperties"] {
                    if extra == .bool(false) { errors.append("\(path): unexpected property \(key)") }
                    if case .object = extra { errors += Self.errors(item, schema: extra, path: "\(path).\(key)") }
                }
            }
        }
        if case let .array(array) = value, let items = s["items"] {
            for (i, item) in array.enumerated() { errors += Self.errors(item, schema: items, path: "\(path)[\(i)]") }
        }
        return errors
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .number), ("null", .null): true
        case let ("integer", .number(n)): n == n.rounded()
        default: false
        }
    }
}
