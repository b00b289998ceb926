// A stand-in for GRDB's two record protocols, so that Sources/RoomKey/Keyring/KeyringHeader.swift compiles into the
// FuzzKeyringHeader target without SQLite. Only the header's own logic (unwrap) is fuzzed; reading the row is GRDB's.
public protocol FetchableRecord {}
public protocol PersistableRecord {}
