import Foundation
import NIOCore

/// The line codec of the protocol (Protocol/PROTOCOL.md): one `WireMessage` is one line of
/// canonical JSON (sorted keys, no white space, optional keys absent rather than null) with a
/// "type" key naming the case, ended by "\n".
///
/// Decoding is lenient about layout (any white space and key order, `null` for an absent optional
/// key, unknown keys ignored) and strict about content: a line that is not a JSON object, a
/// missing or mistyped key, or an identifier in the wrong form is a `malformed` error whose
/// message and `field` give the key's path from the message type (`push.changes[3].hlc`); a
/// "type" naming no message is `unknown-message`.
public enum WireCodec {
    // MARK: Encoding

    /// The message's canonical line, "\n" included.
    public static func encode(_ message: WireMessage) -> String {
        var line = object(message).text
        line += "\n"
        return line
    }

    /// The message's canonical line, "\n" included, as the bytes of `encode(_:)` in buffers of
    /// `chunkSize` bytes each (the last may be shorter), to be written one after another: a
    /// page's change texts are copied once, and a page of megabytes is never one allocation.
    /// The C allocator takes an allocation that large fresh from the kernel, which zeroes it
    /// page by page, for every page a server sent (MEASUREMENTS.md, thirty-second session);
    /// chunks of a few kilobytes are reused from the allocator's lists.
    public static func encode(_ message: WireMessage, chunkSize: Int) -> [ByteBuffer] {
        precondition(chunkSize > 0, "chunks of \(chunkSize) bytes")
        var chunks: [ByteBuffer] = []
        var chunk = ByteBuffer()
        chunk.reserveCapacity(chunkSize)
        func append(_ bytes: UnsafeRawBufferPointer) {
            var rest = bytes
            while !rest.isEmpty {
                if chunk.readableBytes == chunkSize {
                    chunks.append(chunk)
                    chunk = ByteBuffer()
                    chunk.reserveCapacity(chunkSize)
                }
                let count = min(rest.count, chunkSize - chunk.readableBytes)
                chunk.writeBytes(UnsafeRawBufferPointer(rebasing: rest.prefix(count)))
                rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(count))
            }
        }
        object(message).write { piece in
            var piece = piece
            piece.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        }
        withUnsafeBytes(of: UInt8(ascii: "\n")) { append($0) }
        chunks.append(chunk)
        return chunks
    }

    private static func object(_ message: WireMessage) -> CanonicalObject {
        var object = CanonicalObject()
        object.string("type", message.typeName)
        switch message {
        case .hello(let hello):
            object.int("version", hello.version)
            object.string("replica", hello.replica.rawValue)
            object.string("token", hello.token)
            object.string("client", hello.client)
            object.string("key", hello.key?.base64)
        case .push(let push):
            object.string("batch", push.batch)
            object.array("changes", changeTexts(push.changes))
        case .pull(let pull):
            object.string("cursor", pull.cursor?.rawValue)
            object.int("limit", pull.limit)
            if pull.snapshot { object.bool("snapshot", true) }
        case .history(let request):
            object.string("record", request.record.rawValue)
            object.string("cursor", request.cursor?.rawValue)
            object.int("limit", request.limit)
        case .historyPage(let page):
            object.string("record", page.record.rawValue)
            object.array("changes", changeTexts(page.changes))
            object.string("cursor", page.cursor.rawValue)
            object.bool("more", page.more)
            if page.compacted { object.bool("compacted", true) }
        case .subscribe(let subscribe):
            object.string("cursor", subscribe.cursor?.rawValue)
        case .ping(let ping), .pong(let ping):
            object.string("nonce", ping.nonce)
        case .bye:
            break
        case .welcome(let welcome):
            object.int("version", welcome.version)
            var identity = CanonicalObject()
            identity.string("tenant", welcome.identity.tenant)
            // A pcpg or health-board identity names no cluster and no practice: the keys are absent.
            identity.string("cluster", welcome.identity.role.isPractice ? welcome.identity.cluster : nil)
            identity.string("practice", welcome.identity.role.isPractice ? welcome.identity.practice : nil)
            identity.string("author", welcome.identity.author)
            object.raw("identity", identity.text)
            // Absent for `practice`, so a practice's welcome is the line it always was.
            object.string("role", welcome.identity.role == .practice ? nil : welcome.identity.role.rawValue)
            object.string("region", welcome.identity.region)
            object.raw("scopes", JSONValue.array(welcome.scopes.map(JSONValue.string)).canonicalText)
            var limits = CanonicalObject()
            limits.int("maxLineBytes", welcome.limits.maxLineBytes)
            limits.int("maxChangesPerPush", welcome.limits.maxChangesPerPush)
            limits.int("maxChangesPerPage", welcome.limits.maxChangesPerPage)
            limits.int("maxClockSkewMillis", welcome.limits.maxClockSkewMillis)
            limits.int("idleTimeoutMillis", welcome.limits.idleTimeoutMillis)
            object.raw("limits", limits.text)
            object.string("server", welcome.server)
            object.int("credentialExpiresAt", welcome.credentialExpiresAt)
            object.string("store", welcome.store)
            object.string("head", welcome.head?.text)
        case .ack(let ack):
            object.string("batch", ack.batch)
            object.int("accepted", ack.accepted)
            object.int("duplicates", ack.duplicates)
            object.string("author", ack.author)
            if !ack.superseded.isEmpty { object.array("superseded", ack.superseded.map { "\"\($0)\"" }) }
        case .changes(let page):
            object.array("changes", changeTexts(page.changes, stored: page.storedTexts, unreadable: page.unreadable))
            object.string("cursor", page.cursor.rawValue)
            object.bool("more", page.more)
            if let oversight = page.oversight {
                object.raw("rollup", oversight.rollup.canonicalText)
                object.raw("escalated", JSONValue.array(oversight.escalated.map {
                    .object(["cluster": .string($0.cluster), "record": .string($0.record.rawValue)])
                }).canonicalText)
            }
        case .snapshot(let snapshot):
            object.array("changes", changeTexts(snapshot.changes, stored: snapshot.storedTexts, unreadable: snapshot.unreadable))
            object.string("cursor", snapshot.cursor.rawValue)
            object.bool("more", snapshot.more)
        case .subscribed(let subscribed):
            object.string("cursor", subscribed.cursor.rawValue)
        case .error(let error):
            object.string("code", error.code)
            object.string("message", error.message)
            object.bool("fatal", error.fatal)
            object.string("batch", error.batch)
            object.string("change", error.change?.description)
        }
        return object
    }

    /// The elements of a `changes` array: the changes' canonical texts (written straight out,
    /// not through a JSONValue tree: the same bytes, ChangeVectorTests), the stored texts as
    /// they are, then the unreadable ones' texts.
    static func changeTexts(_ changes: [Change], stored: [String] = [], unreadable: [UnreadableChange] = []) -> [String] {
        guard !changes.isEmpty || !unreadable.isEmpty else { return stored }
        return changes.map(\.jsonText) + stored + unreadable.map(\.text)
    }

    // MARK: Decoding

    /// Decodes one line, without its newline.
    public static func decode(_ line: some StringProtocol) throws(ClusterSyncError) -> WireMessage {
        if let message = CanonicalLineReader.message(line, clientMessagesOnly: false) { return message }
        return try decode(data: Data(line.utf8))
    }

    /// Decodes one line, without its newline, from the readable bytes of `line`.
    public static func decode(_ line: ByteBuffer) throws(ClusterSyncError) -> WireMessage {
        if let message = line.withUnsafeReadableBytes({ CanonicalLineReader.message($0, clientMessagesOnly: false) }) { return message }
        return try decode(data: line.withUnsafeReadableBytes { Data($0) })
    }

    /// Decodes one line a client sent, without its newline: a message only servers send is
    /// `unknown-message` as soon as its "type" is read, before its other keys are looked at, so
    /// `{"type":"ack"}` gets the same answer as a complete ack (Protocol/PROTOCOL.md §4).
    public static func decodeClientMessage(_ line: ByteBuffer) throws(ClusterSyncError) -> WireMessage {
        if let message = line.withUnsafeReadableBytes({ CanonicalLineReader.message($0, clientMessagesOnly: true) }) { return message }
        return try decode(data: line.withUnsafeReadableBytes { Data($0) }, clientMessagesOnly: true)
    }

    /// `decodeClientMessage(_:)` for text.
    public static func decodeClientMessage(_ line: some StringProtocol) throws(ClusterSyncError) -> WireMessage {
        if let message = CanonicalLineReader.message(line, clientMessagesOnly: true) { return message }
        return try decode(data: Data(line.utf8), clientMessagesOnly: true)
    }

    /// The decoder alone, without the canonical-line reader: for tests that hold the two paths
    /// to the same answers.
    static func decodeWithoutFastPath(_ line: some StringProtocol, clientMessagesOnly: Bool = false) throws(ClusterSyncError) -> WireMessage {
        try decode(data: Data(line.utf8), clientMessagesOnly: clientMessagesOnly)
    }

    static func decode(data: Data, clientMessagesOnly: Bool = false) throws(ClusterSyncError) -> WireMessage {
        try StrictJSONSyntax.check(data)
        do {
            let decoder = JSONDecoder()
            if clientMessagesOnly { decoder.userInfo[DecodedLine.clientMessagesOnly] = true }
            return try decoder.decode(DecodedLine.self, from: data).message
        } catch let error as ClusterSyncError {
            throw error
        } catch let error as DecodingError {
            throw ClusterSyncError(wire: error, messageType: nil)
        } catch {
            throw ClusterSyncError(.malformed, "the line is not valid JSON")
        }
    }
}

extension WireMessage {
    /// The value of the message's "type" key.
    public var typeName: String {
        switch self {
        case .hello: "hello"
        case .push: "push"
        case .pull: "pull"
        case .subscribe: "subscribe"
        case .ping: "ping"
        case .bye: "bye"
        case .history: "history"
        case .historyPage: "history-page"
        case .welcome: "welcome"
        case .ack: "ack"
        case .changes: "changes"
        case .snapshot: "snapshot"
        case .subscribed: "subscribed"
        case .pong: "pong"
        case .error: "error"
        }
    }

    /// Whether clients send this message (servers send the others).
    public var isClientMessage: Bool {
        switch self {
        case .hello, .push, .pull, .subscribe, .ping, .bye, .history: true
        case .welcome, .ack, .changes, .snapshot, .subscribed, .pong, .error, .historyPage: false
        }
    }

    /// The "type"s a client sends.
    public static let clientTypeNames = ["hello", "push", "pull", "subscribe", "ping", "history", "bye"]

    /// Every "type" of this protocol version: the client's messages, then the server's.
    public static let typeNames = [
        "hello", "push", "pull", "subscribe", "ping", "bye", "history",
        "welcome", "ack", "changes", "snapshot", "subscribed", "pong", "error", "history-page",
    ]
}

// MARK: - Canonical objects

/// A JSON object written canonically: members sorted by key, values given as canonical text.
struct CanonicalObject {
    private var members: [(key: String, text: Member)] = []

    /// A member's canonical text: whole, or a JSON array's element texts, joined only when written
    /// (a page's, up to megabytes, is copied once into a line's buffer).
    private enum Member {
        case whole(String)
        case array([String])

        var byteCount: Int {
            switch self {
            case .whole(let text): text.utf8.count
            case .array(let elements): elements.reduce(elements.count + 1) { $0 + $1.utf8.count }
            }
        }
    }

    mutating func raw(_ key: String, _ text: String) {
        members.append((key, .whole(text)))
    }

    /// A JSON array of the elements' texts, each already canonical JSON.
    mutating func array(_ key: String, _ elements: [String]) {
        members.append((key, .array(elements)))
    }

    mutating func string(_ key: String, _ value: String?) {
        guard let value else { return }
        var text = ""
        JSONValue.writeString(value, into: &text)
        members.append((key, .whole(text)))
    }

    mutating func int(_ key: String, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        members.append((key, .whole(String(value))))
    }

    mutating func bool(_ key: String, _ value: Bool) {
        members.append((key, .whole(value ? "true" : "false")))
    }

    var text: String {
        var out = ""
        out.reserveCapacity(byteCount)
        write { out += $0 }
        return out
    }

    /// The object's canonical text, in pieces: keys sorted by their UTF-8 bytes.
    fileprivate func write(_ piece: (String) -> Void) {
        let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        piece("{")
        for (i, member) in sorted.enumerated() {
            if i > 0 { piece(",") }
            var key = ""
            JSONValue.writeString(member.key, into: &key)
            piece(key)
            piece(":")
            switch member.text {
            case .whole(let text):
                piece(text)
            case .array(let elements):
                piece("[")
                for (j, element) in elements.enumerated() {
                    if j > 0 { piece(",") }
                    piece(element)
                }
                piece("]")
            }
        }
        piece("}")
    }

    /// An upper bound of the text's UTF-8 length (keys are short and need little escaping).
    private var byteCount: Int {
        members.reduce(2) { $0 + $1.key.utf8.count * 2 + 4 + $1.text.byteCount }
    }
}

// MARK: - Decodable forms

/// One decoded line. Reads "type" first, then the keys of that message from the same container,
/// so a line is parsed once whatever its type.
private struct DecodedLine: Decodable {
    var message: WireMessage
    /// Set in the decoder's `userInfo` to refuse the server's message types by name.
    static let clientMessagesOnly = CodingUserInfoKey(rawValue: "clientMessagesOnly")!

    enum Key: String, CodingKey {
        case type
        case version, replica, token, client, key
        case identity, scopes, limits, server, credentialExpiresAt, store, head, role, region
        case tenant, cluster, practice, author
        case maxLineBytes, maxChangesPerPush, maxChangesPerPage, maxClockSkewMillis, idleTimeoutMillis
        case batch, changes, accepted, duplicates, superseded
        case cursor, limit, more, nonce
        case code, message, fatal, change
        case rollup, escalated
        case snapshot, record, compacted
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        guard WireMessage.typeNames.contains(type) else {
            let shown = PatientDataGuard.quotable(JSONValue.string(type).canonicalText) ?? "a type of \(type.count) characters"
            throw ClusterSyncError(
                .unknownMessage,
                "\(shown) is not a message type of protocol version \(ProtocolVersion.current); the types are \(WireMessage.typeNames.joined(separator: ", "))",
                field: "type")
        }
        if decoder.userInfo[Self.clientMessagesOnly] as? Bool == true, !WireMessage.clientTypeNames.contains(type) {
            throw ClusterSyncError(
                .unknownMessage,
                "\(type) is sent by the server, not to it; a client sends \(WireMessage.clientTypeNames.dropLast().joined(separator: ", ")) or bye",
                field: "type")
        }
        do {
            message = try Self.decode(type, c)
        } catch let error as DecodingError {
            throw ClusterSyncError(wire: error, messageType: type)
        }
    }

    private static func decode(_ type: String, _ c: KeyedDecodingContainer<Key>) throws -> WireMessage {
        func invalid(_ key: Key, _ message: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        func cursor() throws -> Cursor? {
            try c.decodeIfPresent(String.self, forKey: .cursor).map(Cursor.init)
        }
        /// A page's changes are read one by one: one that does not decode is kept as text, so
        /// the replica can set it aside and carry on with the rest (Protocol/changes.md §8).
        func changesPage() throws -> ChangesPage {
            var changes: [Change] = []
            var unreadable: [UnreadableChange] = []
            for entry in try c.decode([PageEntry].self, forKey: .changes) {
                switch entry {
                case .change(let change): changes.append(change)
                case .unreadable(let u): unreadable.append(u)
                }
            }
            var oversight: OversightPage?
            if let rollup = try c.decodeIfPresent(JSONValue.self, forKey: .rollup) {
                oversight = OversightPage(rollup: rollup, escalated: try c.decodeIfPresent([EscalatedEntry].self, forKey: .escalated)?.map(\.record) ?? [])
            }
            return ChangesPage(changes: changes, cursor: Cursor(try c.decode(String.self, forKey: .cursor)),
                               more: try c.decode(Bool.self, forKey: .more), unreadable: unreadable, oversight: oversight)
        }
        switch type {
        case "hello":
            let version = try c.decode(Int.self, forKey: .version)
            let replicaText = try c.decode(String.self, forKey: .replica)
            guard let replica = ReplicaID(replicaText) else {
                throw invalid(.replica, "not a replica id (16 lowercase hex digits)")
            }
            let key = try c.decodeIfPresent(String.self, forKey: .key).map { text in
                guard let key = ReplicaPublicKey(base64: text) else {
                    throw invalid(.key, "not an Ed25519 public key: 32 bytes in standard base64 with padding (44 characters)")
                }
                return key
            }
            return .hello(Hello(
                version: version, replica: replica,
                token: try c.decodeIfPresent(String.self, forKey: .token),
                client: try c.decodeIfPresent(String.self, forKey: .client), key: key))
        case "push":
            return .push(Push(batch: try c.decode(String.self, forKey: .batch), changes: try c.decode([Change].self, forKey: .changes)))
        case "pull":
            let limit = try c.decodeIfPresent(Int.self, forKey: .limit)
            if let limit, limit < 1 { throw invalid(.limit, "must be at least 1; got \(limit)") }
            return .pull(Pull(cursor: try cursor(), limit: limit, snapshot: try c.decodeIfPresent(Bool.self, forKey: .snapshot) ?? false))
        case "history", "history-page":
            let text = try c.decode(String.self, forKey: .record)
            guard let record = RecordID(text) else { throw invalid(.record, "not a record id") }
            if type == "history" {
                let limit = try c.decodeIfPresent(Int.self, forKey: .limit)
                if let limit, limit < 1 { throw invalid(.limit, "must be at least 1; got \(limit)") }
                return .history(HistoryRequest(record: record, cursor: try cursor(), limit: limit))
            }
            return .historyPage(HistoryPage(
                record: record, changes: try c.decode([Change].self, forKey: .changes),
                cursor: Cursor(try c.decode(String.self, forKey: .cursor)), more: try c.decode(Bool.self, forKey: .more),
                compacted: try c.decodeIfPresent(Bool.self, forKey: .compacted) ?? false))
        case "subscribe":
            return .subscribe(Subscribe(cursor: try cursor()))
        case "ping":
            return .ping(Ping(nonce: try c.decodeIfPresent(String.self, forKey: .nonce)))
        case "pong":
            return .pong(Ping(nonce: try c.decodeIfPresent(String.self, forKey: .nonce)))
        case "bye":
            return .bye
        case "welcome":
            let i = try c.nestedContainer(keyedBy: Key.self, forKey: .identity)
            let roleText = try c.decodeIfPresent(String.self, forKey: .role)
            guard let role = roleText.map(CredentialRole.init(rawValue:)) ?? .practice else {
                throw invalid(.role, "must be one of \(CredentialRole.allSpellings)")
            }
            let region = try c.decodeIfPresent(String.self, forKey: .region)
            if role.needsRegion, region == nil { throw invalid(.region, "a pcpg welcome names its region") }
            // A practice's identity names its cluster and practice; a pcpg's or health board's none.
            let identity = role.isPractice
                ? SessionIdentity(
                    tenant: try i.decode(String.self, forKey: .tenant), cluster: try i.decode(String.self, forKey: .cluster),
                    practice: try i.decode(String.self, forKey: .practice), author: try i.decode(String.self, forKey: .author), role: role)
                : SessionIdentity.oversight(
                    tenant: try i.decode(String.self, forKey: .tenant), role: role, region: region,
                    author: try i.decode(String.self, forKey: .author))
            let l = try c.nestedContainer(keyedBy: Key.self, forKey: .limits)
            let limits = WireLimits(
                maxLineBytes: try l.decode(Int.self, forKey: .maxLineBytes),
                maxChangesPerPush: try l.decode(Int.self, forKey: .maxChangesPerPush),
                maxChangesPerPage: try l.decode(Int.self, forKey: .maxChangesPerPage),
                maxClockSkewMillis: try l.decode(Int64.self, forKey: .maxClockSkewMillis),
                idleTimeoutMillis: try l.decodeIfPresent(Int64.self, forKey: .idleTimeoutMillis) ?? 0)
            var welcome = Welcome(
                version: try c.decode(Int.self, forKey: .version), identity: identity, limits: limits,
                server: try c.decode(String.self, forKey: .server))
            welcome.scopes = try c.decode([String].self, forKey: .scopes)
            welcome.credentialExpiresAt = try c.decodeIfPresent(Int64.self, forKey: .credentialExpiresAt)
            welcome.store = try c.decodeIfPresent(String.self, forKey: .store)
            if let store = welcome.store, !Welcome.isStoreIdentity(store) {
                throw invalid(.store, "not a store identity (1 to 64 lowercase letters, digits or '-')")
            }
            if let head = try c.decodeIfPresent(String.self, forKey: .head) {
                guard let parsed = LedgerHead(text: head) else { throw invalid(.head, "not a chain head (seq:64 lowercase hex digits)") }
                welcome.head = parsed
            }
            return .welcome(welcome)
        case "ack":
            let superseded = try (c.decodeIfPresent([String].self, forKey: .superseded) ?? []).map { text in
                guard let id = ChangeID(text) else { throw invalid(.superseded, "not a change id (counter@replica)") }
                return id
            }
            return .ack(Ack(
                batch: try c.decode(String.self, forKey: .batch), accepted: try c.decode(Int.self, forKey: .accepted),
                duplicates: try c.decode(Int.self, forKey: .duplicates), author: try c.decode(String.self, forKey: .author),
                superseded: superseded))
        case "changes":
            return .changes(try changesPage())
        case "snapshot":
            return .snapshot(try changesPage())
        case "subscribed":
            return .subscribed(Subscribed(cursor: Cursor(try c.decode(String.self, forKey: .cursor))))
        case "error":
            var change: ChangeID?
            if let text = try c.decodeIfPresent(String.self, forKey: .change) {
                guard let id = ChangeID(text) else { throw invalid(.change, "not a change id (counter@replica)") }
                change = id
            }
            return .error(WireError(
                code: try c.decode(String.self, forKey: .code), message: try c.decode(String.self, forKey: .message),
                fatal: try c.decode(Bool.self, forKey: .fatal), batch: try c.decodeIfPresent(String.self, forKey: .batch),
                change: change))
        default:
            preconditionFailure("\(type) is in WireMessage.typeNames but has no decoder")
        }
    }
}

/// One element of a page's "escalated": `{"cluster","record"}`.
private struct EscalatedEntry: Decodable {
    var record: EscalatedRecord

    enum Key: String, CodingKey { case cluster, record }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let text = try c.decode(String.self, forKey: .record)
        guard let id = RecordID(text) else {
            throw DecodingError.dataCorruptedError(forKey: .record, in: c, debugDescription: "not a record id")
        }
        record = EscalatedRecord(cluster: try c.decode(String.self, forKey: .cluster), record: id)
    }
}

/// One element of a page's "changes": a change, or, if it does not decode, its text.
private enum PageEntry: Decodable {
    case change(Change)
    case unreadable(UnreadableChange)

    init(from decoder: any Decoder) throws {
        do {
            self = .change(try Change(from: decoder))
        } catch let error as DecodingError {
            let text = try decoder.singleValueContainer().decode(JSONValue.self).canonicalText
            // Named from the change, not the page ("record", not "changes[0].record"): the text
            // alone gives the same error wherever it sits, so a page re-encoded (readable
            // changes first) decodes to the same page. Found by Fuzz/run.sh (FuzzWireCodec).
            let local = error.relative(to: decoder.codingPath.count)
            self = .unreadable(UnreadableChange(text: text, error: ClusterSyncError(decoding: local)))
        }
    }
}

extension DecodingError {
    /// The same error with the first `depth` keys of its coding path dropped.
    func relative(to depth: Int) -> DecodingError {
        func drop(_ context: Context) -> Context {
            Context(codingPath: Array(context.codingPath.dropFirst(depth)), debugDescription: context.debugDescription,
                    underlyingError: context.underlyingError)
        }
        switch self {
        case .keyNotFound(let key, let context): return .keyNotFound(key, drop(context))
        case .typeMismatch(let type, let context): return .typeMismatch(type, drop(context))
        case .valueNotFound(let type, let context): return .valueNotFound(type, drop(context))
        case .dataCorrupted(let context): return .dataCorrupted(drop(context))
        @unknown default: return self
        }
    }
}

// MARK: - Errors

extension ClusterSyncError {
    /// A `malformed` error whose message names the key at fault by its path from the message
    /// type (`push.changes[3].hlc`). Its `field` is the key as the change codec names it: the
    /// first key of a change on the path (`hlc`; `sup` for `push.changes[3].sup[0]`), else the
    /// last key (`batch`).
    init(wire error: DecodingError, messageType: String?) {
        func field(_ codingPath: [any CodingKey]) -> String? {
            let keys = codingPath.filter { $0.intValue == nil }.map(\.stringValue)
            return keys.first { Change.CodingKeys(stringValue: $0) != nil } ?? keys.last
        }
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = messageType ?? ""
            for key in codingPath {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return out
        }
        func expected(_ type: Any.Type) -> String {
            switch type {
            case is String.Type: return "a string"
            case is Int.Type, is Int64.Type: return "an integer"
            case is Bool.Type: return "true or false"
            default:
                let name = String(describing: type)
                if name.hasPrefix("Array") { return "an array" }
                if name.hasPrefix("Dictionary") { return "an object" }
                return "a JSON \(name)"
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath + [key])
            self.init(.malformed, "\"\(at)\" is missing", field: field(context.codingPath + [key]))
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            if context.codingPath.isEmpty {
                self.init(.malformed, "a line must be one JSON object")
            } else {
                let at = path(context.codingPath)
                self.init(.malformed, "\"\(at)\" must be \(expected(type))", field: field(context.codingPath))
            }
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.malformed, "the line is not valid JSON")
            } else {
                let at = path(context.codingPath)
                // The change decoder quotes the text it refused: keep a peer's long junk out of the answer.
                let detail = context.debugDescription
                let shown = detail.count <= 200 ? detail : detail.prefix(200) + "…"
                self.init(.malformed, "\"\(at)\": \(shown)", field: field(context.codingPath))
            }
        @unknown default:
            self.init(.malformed, "the line could not be decoded")
        }
    }
}
