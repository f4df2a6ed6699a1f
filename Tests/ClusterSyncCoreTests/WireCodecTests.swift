import ClusterSyncCore
import ClusterSyncServerTesting
import Foundation
import NIOCore
import Testing

@Suite struct WireCodecTests {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let change = Change(
        id: ChangeID(replica: a, counter: 1), hlc: HLCTimestamp(millis: 0x01a2_07a2_3280), record: RecordID("RSK-7K3M9Q2X1A")!,
        scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title", value: .string("Practice nurse vacancy in Treorchy"))
    static let changeText = #"{"cluster":"rhondda","field":"title","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"Practice nurse vacancy in Treorchy"}"#
    static let identity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010 (Siân Evans)")

    // MARK: The vectors

    @Test func everyTranscriptIsPresentAndWellFormed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: WireVectors.directory.path).filter { $0.hasSuffix(".jsonl") }
        #expect(Set(files) == Set(WireVectors.names.map { $0 + ".jsonl" }), "Protocol/vectors/wire/ and WireVectors.names differ")
        for transcript in try WireVectors.all() {
            #expect(transcript.entries.last == .serverClose, "\(transcript.name) must end with the server closing")
            #expect(transcript.entries.filter { $0 == .serverClose }.count == 1, "\(transcript.name) closes once")
        }
    }

    @Test(arguments: WireVectors.names)
    func serverLinesRoundTripByteForByte(_ name: String) throws {
        let transcript = try WireVectors.load(name)
        for (from, line) in transcript.messageLines where from == "server" {
            let message = try WireCodec.decode(line)
            #expect(!message.isClientMessage, "\(name): the server sends \(message.typeName)")
            #expect(WireCodec.encode(message) == line + "\n", "\(name): \(line)")
        }
    }

    /// Client lines decode (as a server decodes them) and re-encode to the same bytes, except
    /// those the next server line answers with malformed or unknown-message: decoding those must
    /// fail with that error (but for cursors the server did not issue, which decode).
    @Test(arguments: WireVectors.names)
    func clientLinesDecodeOrFailAsTheServerSays(_ name: String) throws {
        let entries = try WireVectors.load(name).entries
        for (i, entry) in entries.enumerated() {
            let text: String
            switch entry {
            case .client(let l), .other(let l): text = l
            case .clientRaw(let r): text = r
            default: continue
            }
            var expectedError: WireError?
            if i + 1 < entries.count, case .server(let answer) = entries[i + 1], case .error(let e) = try WireCodec.decode(answer),
               e.code == "malformed" || e.code == "unknown-message" {
                expectedError = e
            }
            // A cursor decodes; whether the server issued it is the session's check, against its stream.
            let cursorRefused = expectedError?.message.hasSuffix("is not a cursor this server issued; pull without a cursor to start again") == true
            do throws(ClusterSyncError) {
                let message = try WireCodec.decodeClientMessage(text)
                #expect(expectedError == nil || cursorRefused,
                        "\(name): \(text) decoded, but the server answers \(expectedError?.code ?? "")")
                #expect(WireCodec.encode(message) == text + "\n", "\(name): \(text)")
            } catch {
                #expect(error.code.rawValue == expectedError?.code, "\(name): \(text): \(error.message)")
                #expect(error.message == expectedError?.message, "\(name): \(text)")
            }
        }
    }

    @Test func transcriptsCoverEveryMessageAndErrorCode() throws {
        var types: Set<String> = []
        var codes: Set<String> = []
        for transcript in try WireVectors.all() {
            for (_, line) in transcript.messageLines {
                // Some client lines are malformed on purpose.
                guard let message = try? WireCodec.decode(line) else { continue }
                types.insert(message.typeName)
                if case .error(let e) = message { codes.insert(e.code) }
            }
        }
        #expect(types == Set(WireMessage.typeNames))
        #expect(codes == [
            "malformed", "unknown-message", "line-too-long", "batch-too-large", "unknown-field", "invalid-value", "patient-data",
            "forbidden-scope", "clock-skew", "out-of-order", "unauthenticated", "version-unsupported", "bad-signature", "lead-only",
            "cursor-expired", "supersedes-unsynced", "replica-retired",
        ])
    }

    /// The examples in Protocol/PROTOCOL.md's json blocks are real messages, and the server's
    /// are canonical.
    @Test func protocolExamplesAreValidLines() throws {
        let url = WireVectors.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("PROTOCOL.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var examples: [String] = []
        var inJSON = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```json" { inJSON = true } else if line == "```" { inJSON = false } else if inJSON { examples.append(String(line)) }
        }
        #expect(examples.count >= 13)
        var types: Set<String> = []
        for example in examples {
            let message = try WireCodec.decode(example)
            types.insert(message.typeName)
            if !message.isClientMessage {
                #expect(WireCodec.encode(message) == example + "\n", "PROTOCOL.md: \(example)")
            }
        }
        #expect(types == Set(WireMessage.typeNames), "PROTOCOL.md has no example of \(Set(WireMessage.typeNames).subtracting(types).sorted())")
    }

    // MARK: Encoding

    static let encodings: [(WireMessage, String)] = [
        (.hello(Hello(replica: a, token: "cst_x", client: "clustersync 0.1.0")),
         #"{"client":"clustersync 0.1.0","replica":"5f0c9e1a2b3c4d5e","token":"cst_x","type":"hello","version":1}"#),
        (.hello(Hello(replica: a)), #"{"replica":"5f0c9e1a2b3c4d5e","type":"hello","version":1}"#),
        (.push(Push(batch: "b1", changes: [change, change])), #"{"batch":"b1","changes":["# + changeText + "," + changeText + #"],"type":"push"}"#),
        (.push(Push(batch: "b1", changes: [])), #"{"batch":"b1","changes":[],"type":"push"}"#),
        (.pull(Pull(cursor: Cursor("s1:2"), limit: 50)), #"{"cursor":"s1:2","limit":50,"type":"pull"}"#),
        (.pull(Pull(cursor: nil)), #"{"type":"pull"}"#),
        (.pull(Pull(cursor: nil, snapshot: true)), #"{"snapshot":true,"type":"pull"}"#),
        (.history(HistoryRequest(record: RecordID("RSK-7K3M9Q2X1A")!, cursor: Cursor("h1:title/1/2"), limit: 10)),
         #"{"cursor":"h1:title/1/2","limit":10,"record":"RSK-7K3M9Q2X1A","type":"history"}"#),
        (.historyPage(HistoryPage(record: RecordID("RSK-7K3M9Q2X1A")!, changes: [change], cursor: Cursor("h1:title/1/2"), more: false, compacted: true)),
         #"{"changes":["# + changeText + #"],"compacted":true,"cursor":"h1:title/1/2","more":false,"record":"RSK-7K3M9Q2X1A","type":"history-page"}"#),
        (.subscribe(Subscribe(cursor: Cursor("s1:2"))), #"{"cursor":"s1:2","type":"subscribe"}"#),
        (.subscribe(Subscribe(cursor: nil)), #"{"type":"subscribe"}"#),
        (.ping(Ping(nonce: "7")), #"{"nonce":"7","type":"ping"}"#),
        (.ping(Ping()), #"{"type":"ping"}"#),
        (.bye, #"{"type":"bye"}"#),
        (.welcome(Welcome(identity: identity, limits: .default, server: "clustersyncd")),
         #"{"identity":{"author":"W95010 (Siân Evans)","cluster":"rhondda","practice":"W95010","tenant":"ctmuhb"},"limits":{"idleTimeoutMillis":300000,"maxChangesPerPage":2500,"maxChangesPerPush":1000,"maxClockSkewMillis":300000,"maxLineBytes":4194304},"scopes":["cluster:ctmuhb/rhondda","practice:ctmuhb/rhondda/W95010"],"server":"clustersyncd","type":"welcome","version":1}"#),
        (.ack(Ack(batch: "b1", accepted: 3, duplicates: 1, author: "W95010")),
         #"{"accepted":3,"author":"W95010","batch":"b1","duplicates":1,"type":"ack"}"#),
        (.ack(Ack(batch: "b2", accepted: 0, duplicates: 2, author: "W95010", superseded: [ChangeID(replica: a, counter: 2)])),
         #"{"accepted":0,"author":"W95010","batch":"b2","duplicates":2,"superseded":["2@5f0c9e1a2b3c4d5e"],"type":"ack"}"#),
        (.changes(ChangesPage(changes: [change], cursor: Cursor("s1:9"), more: true)),
         #"{"changes":["# + changeText + #"],"cursor":"s1:9","more":true,"type":"changes"}"#),
        (.snapshot(Snapshot(changes: [], cursor: Cursor("s1:9"), more: false)), #"{"changes":[],"cursor":"s1:9","more":false,"type":"snapshot"}"#),
        (.subscribed(Subscribed(cursor: Cursor("s1:0"))), #"{"cursor":"s1:0","type":"subscribed"}"#),
        (.pong(Ping(nonce: "7")), #"{"nonce":"7","type":"pong"}"#),
        (.error(WireError(code: "clock-skew", message: "too \"far\"\nahead", fatal: false, batch: "b1", change: ChangeID(replica: a, counter: 2))),
         #"{"batch":"b1","change":"2@5f0c9e1a2b3c4d5e","code":"clock-skew","fatal":false,"message":"too \"far\"\nahead","type":"error"}"#),
        (.error(WireError(code: "shutting-down", message: "bye", fatal: true)), #"{"code":"shutting-down","fatal":true,"message":"bye","type":"error"}"#),
    ]

    @Test func everyMessageHasOneCanonicalLine() throws {
        #expect(Set(Self.encodings.map(\.0.typeName)) == Set(WireMessage.typeNames))
        for (message, expected) in Self.encodings {
            let line = WireCodec.encode(message)
            #expect(line == expected + "\n")
            // Canonical by an independent writer, and one line.
            #expect(try JSONValue(parsing: expected).canonicalText == expected)
            #expect(line.utf8.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            #expect(try WireCodec.decode(expected) == message, "\(expected)")
        }
    }

    /// What a server sends a page in: its line in buffers of exactly a chunk's size but the
    /// last, whose bytes together are the line's (SessionLimitsTests holds the server to it).
    @Test func encodingInChunksWritesTheSameLine() throws {
        // Every message kind, and every server line of the transcripts (pages of stored texts,
        // unreadable rows, roll-ups).
        var messages = Self.encodings.map(\.0)
        for name in WireVectors.names {
            for (from, line) in try WireVectors.load(name).messageLines where from == "server" { messages.append(try WireCodec.decode(line)) }
        }
        let long = #"{"value":""# + String(repeating: "Siân ", count: 60) + #""}"#
        messages.append(.changes(ChangesPage(storedTexts: [#"{"a":1}"#, long, #"{"b":"Siân"}"#], cursor: Cursor("s1:2"), more: true)))
        for message in messages {
            let line = WireCodec.encode(message)
            for chunkSize in [1, 16, 64, 4096] {
                var chunks = WireCodec.encode(message, chunkSize: chunkSize)
                #expect(chunks.count == (line.utf8.count + chunkSize - 1) / chunkSize, "chunks of \(chunkSize)")
                #expect(chunks.dropLast().allSatisfy { $0.readableBytes == chunkSize } && chunks.last!.readableBytes > 0)
                var joined = ByteBuffer()
                for index in chunks.indices { joined.writeBuffer(&chunks[index]) }
                #expect(joined.readString(length: joined.readableBytes) == line, "chunks of \(chunkSize)")
            }
        }
    }

    // MARK: Decoding

    @Test func decodingAcceptsAnyLayoutNullOptionalsAndUnknownKeys() throws {
        let loose = """
             { "version" : 1 , "token":null,
               "replica":"5f0c9e1a2b3c4d5e", "type":"hello", "client": null, "future": {"x": [1, 2]} }\r
            """
        #expect(try WireCodec.decode(loose) == .hello(Hello(replica: Self.a)))
        var buffer = ByteBuffer(string: loose)
        #expect(try WireCodec.decode(buffer) == .hello(Hello(replica: Self.a)))
        buffer.moveReaderIndex(forwardBy: 2)  // only the readable bytes are decoded
        #expect(throws: ClusterSyncError.self) { try WireCodec.decode(buffer) }
    }

    @Test(arguments: [
        // (line, code, field, message)
        (#"{"type":"ping""#, "malformed", nil, "the line is not valid JSON"),
        ("", "malformed", nil, "the line is not valid JSON"),
        ("42", "malformed", nil, "a line must be one JSON object"),
        ("null", "malformed", nil, "a line must be one JSON object"),
        (#"{"nonce":"1"}"#, "malformed", "type", #""type" is missing"#),
        (#"{"type":7}"#, "malformed", "type", #""type" must be a string"#),
        (#"{"type":"Ping"}"#, "unknown-message", "type",
         #""Ping" is not a message type of protocol version 1; the types are hello, push, pull, subscribe, ping, bye, history, welcome, ack, changes, snapshot, subscribed, pong, error, history-page"#),
        (#"{"type":"hello","replica":"5f0c9e1a2b3c4d5e"}"#, "malformed", "version", #""hello.version" is missing"#),
        (#"{"type":"hello","version":1,"replica":"5F0C9E1A2B3C4D5E"}"#, "malformed", "replica",
         #""hello.replica": not a replica id (16 lowercase hex digits)"#),
        (#"{"type":"hello","version":"1","replica":"5f0c9e1a2b3c4d5e"}"#, "malformed", "version", #""hello.version" must be an integer"#),
        (#"{"type":"hello","version":1,"replica":"5f0c9e1a2b3c4d5e","token":7}"#, "malformed", "token", #""hello.token" must be a string"#),
        (#"{"type":"push","batch":"b1"}"#, "malformed", "changes", #""push.changes" is missing"#),
        (#"{"type":"push","batch":"b1","changes":{}}"#, "malformed", "changes", #""push.changes" must be an array"#),
        (#"{"type":"push","batch":["b1"],"changes":[]}"#, "malformed", "batch", #""push.batch" must be a string"#),
        (#"{"type":"pull","limit":0}"#, "malformed", "limit", #""pull.limit": must be at least 1; got 0"#),
        (#"{"type":"pull","cursor":5}"#, "malformed", "cursor", #""pull.cursor" must be a string"#),
        (#"{"type":"ping","nonce":true}"#, "malformed", "nonce", #""ping.nonce" must be a string"#),
        (#"{"type":"changes","changes":[],"cursor":"s1:1"}"#, "malformed", "more", #""changes.more" is missing"#),
        (#"{"type":"changes","changes":[],"cursor":"s1:1","more":"no"}"#, "malformed", "more", #""changes.more" must be true or false"#),
        (#"{"type":"subscribed"}"#, "malformed", "cursor", #""subscribed.cursor" is missing"#),
        (#"{"type":"ack","batch":"b1","accepted":1,"duplicates":0}"#, "malformed", "author", #""ack.author" is missing"#),
        (#"{"type":"ack","batch":"b1","accepted":0,"duplicates":1,"author":"a","superseded":["1@x"]}"#, "malformed", "superseded",
         #""ack.superseded": not a change id (counter@replica)"#),
        (#"{"type":"error","code":"x","message":"y","fatal":false,"change":"1@x"}"#, "malformed", "change",
         #""error.change": not a change id (counter@replica)"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1}}"#,
         "malformed", "maxClockSkewMillis", #""welcome.limits.maxClockSkewMillis" is missing"#),
        (#"{"type":"welcome","version":1,"identity":"W95010","scopes":[],"server":"s","limits":{}}"#,
         "malformed", "identity", #""welcome.identity" must be an object"#),
        // A store identity is bounded and printable, whatever a server sends (PROTOCOL.md §5.2).
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"store":"3C9D0A6E"}"#, "malformed", "store", #""welcome.store": not a store identity (1 to 64 lowercase letters, digits or '-')"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"store":""}"#, "malformed", "store", #""welcome.store": not a store identity (1 to 64 lowercase letters, digits or '-')"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"store":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#, "malformed", "store", #""welcome.store": not a store identity (1 to 64 lowercase letters, digits or '-')"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"store":"a\nb"}"#, "malformed", "store", #""welcome.store": not a store identity (1 to 64 lowercase letters, digits or '-')"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"head":"12:abc"}"#, "malformed", "head", #""welcome.head": not a chain head (seq:64 lowercase hex digits)"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"head":"x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#, "malformed", "head", #""welcome.head": not a chain head (seq:64 lowercase hex digits)"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"head":"0:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#, "malformed", "head", #""welcome.head": not a chain head (seq:64 lowercase hex digits)"#),
        (#"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"head":"12:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#, "malformed", "head", #""welcome.head": not a chain head (seq:64 lowercase hex digits)"#),
    ] as [(String, String, String?, String)])
    func decodingErrorsNameTheKey(_ line: String, _ code: String, _ field: String?, _ message: String) {
        do throws(ClusterSyncError) {
            let decoded = try WireCodec.decode(line)
            Issue.record("\(line) decoded as \(decoded)")
        } catch {
            #expect(error.code.rawValue == code, "\(line): \(error.message)")
            #expect(error.field == field, "\(line)")
            #expect(error.message == message, "\(line)")
        }
    }

    @Test func aStoreIdentityUpToItsBoundIsKept() throws {
        let line = #"{"type":"welcome","version":1,"identity":{"tenant":"t","cluster":"c","practice":"p","author":"a"},"scopes":[],"server":"s","limits":{"maxLineBytes":1,"maxChangesPerPush":1,"maxChangesPerPage":1,"maxClockSkewMillis":1},"store":"STORE"}"#
        for store in [String(repeating: "f", count: 64), "restored-2026-11-30", "0"] {
            guard case .welcome(let welcome) = try WireCodec.decode(line.replacingOccurrences(of: "STORE", with: store)) else {
                Issue.record("not a welcome"); continue
            }
            #expect(welcome.store == store)
        }
    }

    /// A welcome's chain head travels as `seq:hash` and back, and is absent when there is none.
    @Test func aWelcomesChainHeadRoundTrips() throws {
        var welcome = Welcome(identity: SessionIdentity(tenant: "t", cluster: "c", practice: "p", author: "a"),
                              limits: WireLimits(maxChangesPerPush: 1, maxChangesPerPage: 1), server: "s")
        #expect(!WireCodec.encode(.welcome(welcome)).contains("head"))
        welcome.head = LedgerHead(seq: 48_213, hash: Data(repeating: 0x9b, count: 32))
        let text = String(WireCodec.encode(.welcome(welcome)).dropLast())
        #expect(text.contains(#""head":"48213:\#(String(repeating: "9b", count: 32))""#), "\(text)")
        guard case .welcome(let decoded) = try WireCodec.decode(text) else { Issue.record("not a welcome"); return }
        #expect(decoded.head == welcome.head)
    }

    /// A fault inside a change is named by its path from the message, and its `field` is the
    /// change's key, as the change codec names it.
    @Test func faultsInsideChangesNameThePath() throws {
        func push(_ changes: [String]) -> String { #"{"type":"push","batch":"b1","changes":["# + changes.joined(separator: ",") + "]}" }
        let good = Self.changeText
        let badHLC = good.replacingOccurrences(of: "01a207a23280-0000", with: "yesterday")
        let noHLC = good.replacingOccurrences(of: #""hlc":"01a207a23280-0000","#, with: "")
        let badSup = good.replacingOccurrences(of: #""tenant""#, with: #""sup":["1@5f0c9e1a2b3c4d5e",7],"tenant""#)

        func failure(_ line: String) -> ClusterSyncError? {
            do throws(ClusterSyncError) {
                _ = try WireCodec.decode(line)
                return nil
            } catch {
                return error
            }
        }
        let e1 = try #require(failure(push([good, good, good, badHLC])))
        #expect(e1.message.hasPrefix(#""push.changes[3].hlc": "yesterday" is not"#), "\(e1.message)")
        #expect(e1.field == "hlc" && e1.code == .malformed)
        let e2 = try #require(failure(push([noHLC])))
        #expect(e2.message == #""push.changes[0].hlc" is missing"#)
        #expect(e2.field == "hlc")
        let e3 = try #require(failure(push([good, badSup])))
        #expect(e3.message.hasPrefix(#""push.changes[1].sup"#), "\(e3.message)")
        #expect(e3.field == "sup")
        // In a page from the server, a change that does not decode is kept aside with its
        // error, and the rest of the page is read (Protocol/changes.md §8).
        let page = try WireCodec.decode(#"{"type":"changes","cursor":"s1:1","more":false,"changes":["# + noHLC + "," + good + "]}")
        guard case .changes(let changes) = page else { Issue.record("\(page)"); return }
        #expect(changes.changes.count == 1 && changes.unreadable.count == 1)
        #expect(changes.unreadable.first?.error.code == .malformed && changes.unreadable.first?.error.field == "hlc")
        #expect(changes.unreadable.first?.text == (try JSONValue(parsing: noHLC)).canonicalText)
        // Sent on (after the readable changes), it reads the same.
        let resent = try WireCodec.decode(WireCodec.encode(page).dropLast())
        guard case .changes(let again) = resent else { Issue.record("\(resent)"); return }
        #expect(again.changes == changes.changes && again.unreadable.map(\.text) == changes.unreadable.map(\.text))
        #expect(again == changes)
    }

    /// Found by Fuzz/run.sh (FuzzWireCodec): a page whose unreadable change came before a
    /// readable one re-encoded (readable first) to a page that decoded differently, because the
    /// unreadable change's error named its position in the page ("changes[0].record"). It now
    /// names the key within the change, as decoding the text alone would.
    @Test func aPageWithAnUnreadableChangeFirstRoundTrips() throws {
        let line = #"{"changes":[{"author":"W95011 (Rhys Morgan)","cluster":"rhondda","field":"status","hlc":"01a207a255a8-0000","id":"2@a3b4c5d6e7f80912","record":"ACT-4F8R-M6W0Z","tenant":"ctmuhb","value":"in-progress"},{"author":"W95011 (Rhys Morgan)","cluster":"rhondda","field":"source","hlc":"01a207a255a8-0001","id":"3@a3b4c5d6e7f80912","record":"ACT-4F8R2M6W0Z","tenant":"ctmuhb","value":"RSK-7K3M9Q2X1A"}],"cursor":"s1:3","more":false,"type":"changes"}"#
        let page = try WireCodec.decode(line)
        guard case .changes(let decoded) = page else { Issue.record("\(page)"); return }
        #expect(decoded.changes.map(\.id.description) == ["3@a3b4c5d6e7f80912"])
        let unreadable = try #require(decoded.unreadable.first)
        #expect(unreadable.error.field == "record")
        #expect(!unreadable.error.message.contains("changes["), "\(unreadable.error.message)")
        #expect(throws: ClusterSyncError.self) { try Change(jsonText: unreadable.text) }
        let again = try WireCodec.decode(WireCodec.encode(page).dropLast())
        #expect(again == page)
        #expect(WireCodec.encode(again) == WireCodec.encode(page))
    }

    @Test func invalidUTF8IsMalformed() {
        var buffer = ByteBuffer(string: #"{"type":"ping","nonce":""#)
        buffer.writeBytes([0xC3, 0x28])
        buffer.writeString(#""}"#)
        #expect {
            try WireCodec.decode(buffer)
        } throws: { error in
            (error as? ClusterSyncError)?.code == .malformed
        }
    }

    @Test func refusedLongTextIsNotEchoedWhole() throws {
        let long = String(repeating: "9", count: 5_000)
        let change = Self.changeText.replacingOccurrences(of: "01a207a23280-0000", with: long)
        do throws(ClusterSyncError) {
            _ = try WireCodec.decode(#"{"type":"push","batch":"b","changes":["# + change + "]}")
            Issue.record("decoded")
        } catch {
            #expect(error.message.count < 300, "\(error.message.count) characters")
        }
        do throws(ClusterSyncError) {
            _ = try WireCodec.decode(#"{"type":""# + long + #""}"#)
            Issue.record("decoded")
        } catch {
            #expect(error.code == .unknownMessage)
            #expect(!error.message.contains(long.prefix(50)))
        }
    }

    // MARK: Speed

    /// A full push (1,000 changes, the default maxChangesPerPush) decodes in well under a second
    /// even in a debug build; through JSONValue dictionaries it would not.
    @Test func aPushOfAThousandChangesDecodesQuickly() throws {
        let score: JSONValue = .object(["likelihood": .int(4), "consequence": .int(3)])
        let changes = (1...1_000).map { (n: Int) -> Change in
            let counter = Int64(n)
            let practice: String? = n.isMultiple(of: 2) ? "W95010" : nil
            let isScore = n.isMultiple(of: 3)
            let value: JSONValue = isScore ? score : .string("Practice nurse vacancy \(n)")
            let supersedes: [ChangeID] = n > 1 ? [ChangeID(replica: Self.a, counter: counter - 1)] : []
            return Change(
                id: ChangeID(replica: Self.a, counter: counter), hlc: HLCTimestamp(millis: 0x01a2_07a2_3280 + counter),
                record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda", practice: practice),
                field: isScore ? "score" : "title", value: value, supersedes: supersedes, author: "Siân Evans")
        }
        let line = WireCodec.encode(.push(Push(batch: "b1", changes: changes)))
        let clock = ContinuousClock()
        var decoded: WireMessage?
        let elapsed = try clock.measure {
            decoded = try WireCodec.decode(line.dropLast())
        }
        #expect(decoded == .push(Push(batch: "b1", changes: changes)))
        #expect(elapsed < .seconds(1), "decoding a push of 1,000 changes took \(elapsed)")
        let encodeTime = clock.measure { _ = WireCodec.encode(.push(Push(batch: "b1", changes: changes))) }
        #expect(encodeTime < .seconds(1), "encoding a push of 1,000 changes took \(encodeTime)")
    }
}
