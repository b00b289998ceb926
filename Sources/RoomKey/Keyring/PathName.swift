/// Path text, without Foundation's `NSString` path methods: on Linux, `deletingLastPathComponent` traps on a name of
/// one character with no folder (`-o b`, `--keyring k`: roomkey died of SIGILL with no message, a hostile review).
package enum PathName {
    /// The path without its last component, as `NSString.deletingLastPathComponent` gives it: `/a/b` → `/a`,
    /// `a/b/` → `a`, `/a` → `/`, `/` → `/`, `b` → `` (empty: the current folder).
    package static func parent(_ path: String) -> String {
        var rest = Substring(path)
        while rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let slash = rest.lastIndex(of: "/") else { return "" }
        var head = rest[..<slash]
        while head.hasSuffix("/") { head = head.dropLast() }
        return head.isEmpty ? "/" : String(head)
    }
}
