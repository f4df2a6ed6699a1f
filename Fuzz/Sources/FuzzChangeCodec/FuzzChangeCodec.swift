import ClusterSyncCore
import FuzzDriver
import FuzzSupport

/// One input is the JSON text of a change, or of a value (the same text is tried as both).
///
/// Decoding either succeeds or throws a `ClusterSyncError`; what decodes has one canonical text,
/// which decodes back to the same change or value (so a stored change keeps its bytes and id),
/// and the admission rule (`ChangeAdmission`) decides about it without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)

    if let change = try? Change(jsonText: text) {
        let canonical = change.jsonText
        guard let again = try? Change(jsonText: canonical) else {
            fatalError("the canonical text \(canonical) of a change does not decode")
        }
        require(again == change, "the canonical text \(canonical) decodes to another change")
        require(again.jsonText == canonical, "re-encoding \(canonical) changes its bytes")

        // The admission rule every pushed change meets, for a session that holds the change's
        // scope (so the schema and structure checks run), at the change's own time: it admits
        // or refuses, with an answer short enough to send back.
        let session = SessionIdentity(
            tenant: change.scope.tenant, cluster: change.scope.cluster, practice: change.scope.practice ?? "W95010",
            author: "W95010")
        do {
            try ChangeAdmission(session: session, limits: .default).check(change, nowMillis: change.hlc.millis)
        } catch {
            require(!error.message.isEmpty, "an admission error with no message")
            require(error.message.utf8.count <= 1024 + canonical.utf8.count / 8,
                    "an admission error of \(error.message.utf8.count) bytes: \(error.message.prefix(300))")
        }
    }

    if let value = try? JSONValue(parsing: text) {
        let canonical = value.canonicalText
        guard let again = try? JSONValue(parsing: canonical) else {
            fatalError("the canonical text \(canonical) of a value does not parse")
        }
        require(again == value, "the canonical text \(canonical) parses to another value")
        require(again.canonicalText == canonical, "re-encoding \(canonical) changes its bytes")
    }
    return 0
}

/// The program's entry point under SwiftPM (see FuzzDriver.c).
@_cdecl("FuzzChangeCodec_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    clustersync_fuzz_main(argc, argv)
}
