import Crypto
import Foundation
import Hummingbird
import Synchronization

/// Forms that make something (a record, a list, a list's item, a progress note) are answered once
/// for the same contents within `window`: the same form sent again (Back then *Save*, a post the
/// browser resends, a second click) is sent where the first went, told so, and makes nothing
/// (web app audit: Back then *Save* made a second meeting, and a resent post a second progress
/// note). Two records alike in every field made minutes apart are a slip, not a wish; one field
/// changed makes a new one. Kept in memory, as the session is: the last `kept` forms only.
final class FormSubmissions: Sendable {
    enum Claim: Equatable {
        case first
        /// Where the first of these contents went; nil while it is still being saved.
        case again(String?)
    }

    static let kept = 1_000
    static let window = Duration.seconds(600)

    private struct Entry {
        var target: String?
        var at: ContinuousClock.Instant
    }

    private struct State {
        var order: [Data] = []
        var entries: [Data: Entry] = [:]
    }

    private let state = Mutex(State())

    /// A form's contents as compared: where it was posted and every field but the CSRF token.
    static func fingerprint(path: String, _ form: FormBody) -> Data {
        fingerprint(path: path, form.pairs.filter { $0.0 != "csrf" }.map { ($0.0, Data($0.1.utf8)) })
    }

    /// Where a form was posted and the fields given (a file's bytes among them), as compared.
    static func fingerprint(path: String, _ fields: [(name: String, value: Data)]) -> Data {
        var hash = SHA256()
        hash.update(data: Data(path.utf8))
        for (name, value) in fields {
            hash.update(data: Data([0]))
            hash.update(data: Data(name.utf8))
            hash.update(data: Data([1]))
            // The value's length first: a file's bytes may hold the separators.
            hash.update(data: withUnsafeBytes(of: UInt64(value.count).littleEndian) { Data($0) })
            hash.update(data: value)
        }
        return Data(hash.finalize())
    }

    func claim(_ key: Data, now: ContinuousClock.Instant = .now) -> Claim {
        state.withLock { state in
            if let earlier = state.entries[key], now - earlier.at < Self.window { return .again(earlier.target) }
            if state.entries[key] == nil { state.order.append(key) }
            state.entries[key] = Entry(target: nil, at: now)
            if state.order.count > Self.kept { state.entries[state.order.removeFirst()] = nil }
            return .first
        }
    }

    /// The first post made what it asked for, and its answer sent the browser to `target`.
    func finish(_ key: Data, at target: String) {
        state.withLock { $0.entries[key]?.target = target }
    }

    /// The first post was refused (the form is shown again): the same contents are tried again.
    func release(_ key: Data) {
        state.withLock { state in
            state.entries[key] = nil
            state.order.removeAll { $0 == key }
        }
    }

    /// Forgets the forms whose answer went to `path` (a record's or a list's page): a record just
    /// deleted, or an item taken off the list, may be made again with the same contents (the
    /// review of this feature: adding "AOB" again after deleting it said it was saved already).
    func forget(answeredAt path: String) {
        state.withLock { state in
            let gone = state.entries.filter { $0.value.target.map { Self.path(of: $0) == path } ?? false }.map(\.key)
            for key in gone { state.entries[key] = nil }
            state.order.removeAll { gone.contains($0) }
        }
    }

    /// `target` with its query replaced by `again=1` (the page then says the form was sent
    /// twice), its fragment kept.
    static func again(_ target: String) -> String {
        let fragment = target.firstIndex(of: "#").map { String(target[$0...]) } ?? ""
        return path(of: target) + "?again=1" + fragment
    }

    /// An answer's page without its query or fragment.
    static func path(of target: String) -> Substring { target.prefix { $0 != "?" && $0 != "#" } }
}

extension Pages {
    /// Answers a form that makes something once for the same contents (`FormSubmissions`):
    /// `make` runs for the first post; a redirect it answers with is where the same form sent
    /// again goes.
    func once(_ request: Request, _ form: FormBody, _ make: () throws -> Response) throws -> Response {
        let key = FormSubmissions.fingerprint(path: request.uri.path, form)
        switch session.submissions.claim(key) {
        case .again(let target?):
            return .redirect(to: FormSubmissions.again(target))
        case .again(nil):
            return page.message(status: .conflict, title: t["form_again_title"], body: t["form_again_body"])
        case .first:
            break
        }
        do {
            let response = try make()
            if response.status == .seeOther, let location = response.headers[.location] {
                session.submissions.finish(key, at: location)
            } else {
                session.submissions.release(key)
            }
            return response
        } catch {
            session.submissions.release(key)
            throw error
        }
    }
}
