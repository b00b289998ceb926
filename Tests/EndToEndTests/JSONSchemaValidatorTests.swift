import Testing

/// The schema validator the JSON test relies on: each keyword it supports rejects what it should.
@Suite struct JSONSchemaValidatorTests {
    static let schema = """
        {"type": "object", "required": ["name", "count"], "additionalProperties": false,
         "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}, "count": {"type": "integer", "minimum": 0},
                        "status": {"type": "string", "enum": ["ok", "not-found"]}, "on": {"type": "boolean"},
                        "tags": {"type": "array", "items": {"type": "string"}}}}
        """

    static func errors(_ document: String) throws -> [String] {
        JSONSchemaValidator.errors(try JSONValue.parse(document), schema: try JSONValue.parse(schema))
    }

    @Test func aConformingDocumentHasNoErrors() throws {
        #expect(try Self.errors(#"{"name": "abc", "count": 3, "status": "ok", "on": true, "tags": ["x"]}"#).isEmpty)
    }

    @Test(arguments: [
        (#"{"count": 1}"#, "$: missing required name"),
        (#"{"name": "abc", "count": 1, "extra": 1}"#, "$: unexpected property extra"),
        (#"{"name": "ABC", "count": 1}"#, #"$.name: "ABC" does not match ^[a-z]+$"#),
        (#"{"name": "abc", "count": 1.5}"#, "$.count: expected integer, found number 1.5"),
        (#"{"name": "abc", "count": -1}"#, "$.count: -1.0 is below 0.0"),
        (#"{"name": "abc", "count": 1, "status": "not_found"}"#, #"$.status: "not_found" is not one of "ok", "not-found""#),
        (#"{"name": "abc", "count": 1, "on": 1}"#, "$.on: expected boolean, found number 1.0"),
        (#"{"name": "abc", "count": true}"#, "$.count: expected integer, found boolean true"),
        (#"{"name": "abc", "count": 1, "tags": [1]}"#, "$.tags[0]: expected string, found number 1.0"),
        ("[]", "$: expected object, found an array"),
    ])
    func eachKeywordRejects(document: String, error: String) throws {
        #expect(try Self.errors(document) == [error])
    }

    @Test func anUnsupportedKeywordIsReported() throws {
        let errors = JSONSchemaValidator.errors(try JSONValue.parse("1"), schema: try JSONValue.parse(#"{"type": "integer", "maximum": 0}"#))
        #expect(errors == ["$: unsupported keyword maximum"])
    }
}
