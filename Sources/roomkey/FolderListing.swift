import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A folder's entries as the file system names them. Paths are Swift strings, which are UTF-8: an entry whose name is
/// not valid UTF-8 cannot be named, so it is listed apart (with U+FFFD in place of its bad bytes) to be reported,
/// never silently left out.
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
            if valid { names.append(name) } else { notUTF8.append(name) }
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
