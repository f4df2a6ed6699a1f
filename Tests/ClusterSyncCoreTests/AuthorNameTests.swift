import ClusterSyncCore
import Foundation
import Testing

/// The vectors in `Protocol/vectors/authors/`: the one rule for author names (`names.jsonl`) and
/// what the server stores as the author of an own or relayed change (`relayed.jsonl`). The
/// client and server suites run the same files through `Replica.initialise`, token labels and
/// the server's push.
enum AuthorVectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/authors")

    struct Name: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var sanitised: String?
        var problem: String?
        var testDescription: String { name.debugDescription }
    }

    struct Relayed: Decodable, Sendable, CustomTestStringConvertible {
        var author: String?
        var own: Bool
        var stored: String
        var testDescription: String { (author ?? "null").debugDescription }
    }

    static func load<T: Decodable>(_ file: String, as: T.Type) -> [T] {
        let text = (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { try! JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    static let names = load("names.jsonl", as: Name.self)
    static let relayed = load("relayed.jsonl", as: Relayed.self)
}

@Suite struct AuthorNameTests {
    @Test func theVectorsAreThere() {
        #expect(AuthorVectors.names.count >= 34)
        #expect(AuthorVectors.relayed.count >= 10)
    }

    @Test(arguments: AuthorVectors.names)
    func sanitisingAndValidatingFollowTheVectors(_ vector: AuthorVectors.Name) throws {
        #expect(AuthorName.sanitised(vector.name) == vector.sanitised)
        #expect(AuthorName.problem(in: vector.name)?.name == vector.problem)
        if vector.problem == nil {
            #expect(try AuthorName.validated(vector.name, field: "name") == vector.sanitised)
        } else {
            #expect { try AuthorName.validated(vector.name, field: "name") } throws: { error in
                (error as? ClusterSyncError)?.code == .invalidValue && (error as? ClusterSyncError)?.field == "name"
            }
        }
        // What comes out keeps the rule: sanitising is idempotent.
        if let sanitised = vector.sanitised {
            #expect(AuthorName.problem(in: sanitised) == nil)
            #expect(AuthorName.sanitised(sanitised) == sanitised)
        }
    }

    /// Found by Fuzz/run.sh (FuzzAuthorName): dropping invisible characters joined "v" and
    /// "ia" into one long word, and cutting the name to 64 scalars then left "via[[[…" at its
    /// end. The cut for length now comes before the cut at "via"; this input is also the
    /// next-to-last line of names.jsonl.
    @Test func cuttingForLengthCannotLeaveAVia() {
        let raw = "a v\0\0ia" + String(repeating: "[", count: 70) + "\0Practice"
        #expect(AuthorName.sanitised(raw) == "a")
        let stored = AuthorStamp.author(
            of: Change(id: ChangeID(replica: ReplicaID("00000000000000bb")!, counter: 1), hlc: HLCTimestamp(millis: 1),
                       record: RecordID("RSK-0000000001")!, scope: RecordScope(tenant: "t", cluster: "c"), field: "title",
                       value: nil, author: raw),
            stampedAs: "rhyl", fromReplica: ReplicaID("00000000000000aa")!)
        #expect(stored == "a via rhyl")
    }

    @Test func refusalsSayWhatIsWrong() {
        func message(_ raw: String) -> String {
            do { _ = try AuthorName.validated(raw, field: "label") } catch { return error.message }
            return ""
        }
        #expect(message("Dr Jones\u{202E}gnal").contains("U+202E"))
        #expect(message("Siân via prestatyn").contains("\"via\""))
        #expect(message(String(repeating: "a", count: 65)).contains("at most 64 characters; this one has 65"))
        #expect(message(" ").contains("at least one visible character"))
        #expect(message("x\u{200B}").hasPrefix("A token label"))
    }

    @Test func aSessionAuthorIsThePracticeAndItsSanitisedLabel() {
        #expect(AuthorName.authenticated(practice: "rhyl", label: nil) == "rhyl")
        #expect(AuthorName.authenticated(practice: "rhyl", label: "laptop") == "rhyl (laptop)")
        // A label stored before the rule cannot put a "via" into every change the token pushes.
        #expect(AuthorName.authenticated(practice: "rhyl", label: "x) via prestatyn (y") == "rhyl (x))")
        #expect(AuthorName.authenticated(practice: "rhyl", label: "\u{200B}") == "rhyl")
    }
}
