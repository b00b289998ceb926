import Foundation
import Testing

/// A test trait giving each test (each case of a parameterized one) a fresh folder under the system's temporary
/// folder, removed when the test ends: keyrings a test creates through `temporaryPath` do not outlive it.
package struct TemporaryFolder: TestTrait, SuiteTrait, TestScoping {
    /// The folder of the running test; nil outside a test with this trait.
    @TaskLocal package static var current: URL?

    /// On a suite, every test in it gets its own folder.
    package var isRecursive: Bool { true }

    package func provideScope(for test: Test, testCase: Test.Case?,
                              performing function: @Sendable () async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("roomkey-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await Self.$current.withValue(folder) { try await function() }
    }

    /// Raised by `temporaryPath` outside a test with the trait (the file would never be removed).
    package struct Missing: Error, CustomStringConvertible {
        package var description: String { "temporaryPath needs the .temporaryFolder trait on the test or its suite" }
    }
}

extension Trait where Self == TemporaryFolder {
    /// A temporary folder for each test, removed when the test ends.
    package static var temporaryFolder: Self { TemporaryFolder() }
}

/// A new path named `name` in a subfolder of its own (not created) inside the running test's temporary folder.
package func temporaryPath(_ name: String) throws -> String {
    guard let folder = TemporaryFolder.current else { throw TemporaryFolder.Missing() }
    return folder.appendingPathComponent(UUID().uuidString).appendingPathComponent(name).path
}
