import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A folder's entries as the file system names them. Paths are Swift strings, which are UTF-8: an entry whose name is
/// not valid UTF-8 cannot be named, so it is listed apart to be reported, never silently left out, as its name with
/// U+FFFD in place of the bad bytes followed by the name's bytes in hex (`a?.txt [61ff2e747874]`), which no two such
/// entries share.
enum FolderListing {
    /// The names in `folder` (without `.` and `..`), and, apart, those that are not valid UTF-8.
    static func entries(of folder: String) throws -> (names: [String], notUTF8: [String]) {
        guard let dir = opendir(folder) else { throw InputError.unreadable(path: folder) }
        defer { closedir(dir) }
        var names: [String] = [], notUTF8: [String] = []
        while let entry = readdir(dir) {
            let (name, valid) = withUnsafePointer(to: &entry.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: raw.pointee)) { chars in
                    (String(cString: chars), String(validatingCString: chars) != nil)
                }
            }
            if name == "." || name == ".." { continue }
            if valid {
                names.append(name)
            } else {
                let hex = name.isEmpty ? "" : withUnsafePointer(to: &entry.pointee.d_name) { raw in
                    raw.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: raw.pointee)) { chars in
                        UnsafeBufferPointer(start: chars, count: strlen(chars)).map { String(format: "%02x", UInt8(bitPattern: $0)) }.joined()
                    }
                }
                notUTF8.append("\(name) [\(hex)]")
            }
        }
        return (names, notUTF8)
    }

    /// The positions (from 1) of command-line arguments that are not valid UTF-8, which roomkey would read as other
    /// names: they are refused before anything runs.
    static func argumentsNotUTF8() -> [Int] {
        (1..<Int(CommandLine.argc)).filter { i in
            guard let arg = CommandLine.unsafeArgv[i] else { return false }
            return String(validatingCString: arg) == nil
        }
    }
}
