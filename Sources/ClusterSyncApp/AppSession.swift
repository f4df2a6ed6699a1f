import ClusterSyncClient
import ClusterSyncCore
import Crypto
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The app's one person at the keyboard: a one-time link hands the browser a session cookie,
/// and every form carries a CSRF token. Both are random, kept in memory only, and die with
/// the process; neither is ever logged.
final class AppSession: Sendable {
    static let cookieName = "clustersync_session"

    let sessionSecret: String
    let csrfToken: String
    private let oneTimeKey: Mutex<String?>
    /// The forms that made something, by the key each was drawn with.
    let submissions = FormSubmissions()
    /// The notes of the last imports, for the pages their redirects open.
    let importNotes = ImportNotes()

    init() {
        sessionSecret = Self.random()
        csrfToken = Self.random()
        oneTimeKey = Mutex(Self.random())
    }

    /// The key for the start link, once: the app prints it, then forgets nothing else.
    var startKey: String { oneTimeKey.withLock { $0 ?? "" } }

    /// Spends the one-time key: true only for the first request that brings it.
    func redeem(_ key: String) -> Bool {
        oneTimeKey.withLock { stored in
            guard let expected = stored, Self.same(expected, key) else { return false }
            stored = nil
            return true
        }
    }

    func isSession(_ cookie: String?) -> Bool {
        guard let cookie else { return false }
        return Self.same(sessionSecret, cookie)
    }

    func isCSRF(_ token: String?) -> Bool {
        guard let token else { return false }
        return Self.same(csrfToken, token)
    }

    /// Compares in time independent of where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    static func random() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Refuses every request without the session cookie (except the start link), refuses a Host
/// that is not this loopback address (DNS rebinding), turns what a page throws into a page
/// saying so, and sets the security headers on every response, those included.
struct AppGuard<Context: RequestContext>: RouterMiddleware {
    let session: AppSession
    let port: @Sendable () -> Int
    let page: PageRenderer
    let version: ReplicaVersion

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        let host = request.head.authority ?? ""
        if host != "127.0.0.1:\(port())" && host != "localhost:\(port())" {
            response = page.message(status: .forbidden, title: page.t["denied_title"], body: page.t["denied_body"])
        } else if page.readOnly, Self.changes(request), session.isSession(request.cookies[AppSession.cookieName]?.value) {
            // No page offers these on a PCPG's or Health Board's replica; a typed address gets
            // this, not a form whose saving the library would refuse.
            response = page.message(status: .forbidden, title: page.t["read_only_title"], body: page.t["read_only_body"])
        } else if request.uri.path == "/start" || session.isSession(request.cookies[AppSession.cookieName]?.value) {
            do {
                // Read before the page reads the replica: a commit made meanwhile still counts as new.
                let live = LiveUpdate.PageContext(version: try version.current(), mayReload: request.method == .get)
                response = try await LiveUpdate.$page.withValue(live) { try await next(request, context) }
            } catch let error as HTTPError {
                // No such route, a body too large: a page saying so, with the headers below.
                // A mistyped address is no failure: said as the pages say a record not held here
                // (web app audit: "Something went wrong" above it alarmed).
                response = error.status == .notFound
                    ? page.message(status: .notFound, title: page.t["not_found_title"], body: page.t["not_found"])
                    : page.message(status: error.status, title: page.t["error_title"], body: error.status.reasonPhrase)
            } catch is NIOTooManyBytesError {
                // A form past `Pages.maxFormBytes` (a file past the import's bound is answered by
                // the import page itself): nothing was read, so nothing was saved.
                response = page.message(status: .contentTooLarge, title: page.t["too_large_title"],
                                        body: page.t.text("too_large_body", String(Pages.maxFormBytes / 1024)))
            } catch let error as ClusterSyncError where error.isUserError {
                response = page.message(status: .unprocessableContent, title: page.t["error_title"], body: error.message)
            } catch {
                // The page says only that it failed; the terminal that started the app gets the error.
                try? FileHandle.standardError.write(contentsOf: Data("clustersync app: \(request.method) \(request.uri.path) failed: \(error)\n".utf8))
                response = page.message(status: .internalServerError, title: page.t["error_title"], body: page.t["error_body"])
            }
        } else {
            response = page.message(status: .forbidden, title: page.t["denied_title"], body: page.t["denied_body"])
        }
        response.headers[.init("Content-Security-Policy")!] =
            "default-src 'none'; script-src \(LiveUpdate.scriptSource); connect-src 'self'; style-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A request that would change the replica or open a form to: every form sent but a sync's
    /// and a backup's (which only reads the replica), and the pages of a new record, an edit and
    /// an import.
    static func changes(_ request: Request) -> Bool {
        let path = request.uri.path
        if request.method == .post { return path != "/sync" && path != "/export/backup" }
        return path.hasSuffix("/new") || path.hasSuffix("/edit") || path == "/import"
    }
}
