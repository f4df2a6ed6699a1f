import ClusterSyncCommandLine
import Foundation
import Testing

/// A file a command could not read or write is said as such, naming the path, not as an
/// "internal error" quoting Foundation's error (`restore --data` into a folder the service user
/// may not create; the forty-fourth session's operations audit).
@Suite struct FileErrorMessageTests {
    @Test func aFileErrorNamesThePathAndWhatToDo() throws {
        let path = "/var/lib/clustersyncd/restored"
        let denied = CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        #expect(CommandLineMain.fileMessage(denied) == "permission denied on \(path): run the command as the user that owns it (the service user), or give that user access")
        #expect(CommandLineMain.fileMessage(CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/etc/x.pem"])) == "/etc/x.pem does not exist: check the path")
        // What Foundation throws when a folder cannot be made where it may not write.
        let forbidden = "/proc/clustersync-\(UUID().uuidString)/data"
        let thrown = #expect(throws: (any Error).self) { try FileManager.default.createDirectory(atPath: forbidden, withIntermediateDirectories: true) }
        #expect(thrown.flatMap(CommandLineMain.fileMessage)?.contains("/proc/") == true, "\(String(describing: thrown))")
        #expect(CommandLineMain.fileMessage(URLError(.badURL)) == nil)
    }
}
