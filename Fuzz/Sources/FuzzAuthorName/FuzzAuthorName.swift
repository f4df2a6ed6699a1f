import ClusterSyncCore
import FuzzDriver
import FuzzSupport

/// One input is a name as it could arrive (UTF-8, invalid bytes replaced): the name rule of
/// `AuthorName` holds of what comes out, and a relayed change claiming it is stored with exactly
/// one "via", followed by the authenticated relayer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let raw = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)

    let problem = AuthorName.problem(in: raw)
    let sanitised = AuthorName.sanitised(raw)
    if let sanitised {
        require(AuthorName.problem(in: sanitised) == nil, "sanitised \(raw.debugDescription) to \(sanitised.debugDescription), which breaks the rule")
        require(AuthorName.sanitised(sanitised) == sanitised, "sanitising \(sanitised.debugDescription) again changes it")
        require(sanitised.unicodeScalars.count <= AuthorName.maxScalars, "\(sanitised.debugDescription) is too long")
    }
    do {
        let validated = try AuthorName.validated(raw, field: "name")
        require(problem == nil && validated == sanitised, "validated \(raw.debugDescription) despite \(String(describing: problem))")
    } catch {
        require(problem != nil, "refused \(raw.debugDescription) with no problem: \(error.message)")
    }

    let relayer = "rhyl (laptop)"
    let change = Change(
        id: ChangeID(replica: ReplicaID("00000000000000bb")!, counter: 1), hlc: HLCTimestamp(millis: 1),
        record: RecordID("RSK-0000000001")!, scope: RecordScope(tenant: "t", cluster: "c"), field: "title", value: nil,
        author: raw)
    let stored = AuthorStamp.author(of: change, stampedAs: relayer, fromReplica: ReplicaID("00000000000000aa")!)
    require(stored.hasSuffix(" via " + relayer), "stored \(stored.debugDescription)")
    let maker = stored.dropLast(relayer.count + 5)
    require(AuthorName.problem(in: maker) == nil || maker.hasPrefix("replica "), "the maker \(maker.debugDescription) breaks the rule")
    return 0
}

/// The program's entry point under SwiftPM (see FuzzDriver.c).
@_cdecl("FuzzAuthorName_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    clustersync_fuzz_main(argc, argv)
}
