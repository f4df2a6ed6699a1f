import ClusterSyncClient
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// Pages that notice changes: every page carries the replica's version when it was rendered
/// and a small script that asks `/changes-since?v=N` every few seconds. When something has been
/// committed since (an edit here, a sync in this app or in a `sync --watch` beside it), the page
/// reloads itself, unless the person has typed into it or is in a field, or it answers a form
/// sent: then a bar says new changes have arrived, with a link to reload. Nothing typed is ever
/// wiped, and every page still works with scripts turned off.
enum LiveUpdate {
    /// Milliseconds between two questions; after a failed one, the second figure.
    static let pollMillis = 2_000
    static let retryMillis = 5_000

    /// The script, inline so that nothing is fetched; allowed by its hash in the CSP and by
    /// nothing else. It holds no words: the bar's text is in the page, from the catalogue.
    static let script = """
    (function () {
      var body = document.body, version = body.getAttribute("data-version"), bar = document.getElementById("changes-bar");
      if (!version || !bar) return;
      var typed = false;
      document.addEventListener("input", function () { typed = true; }, true);
      document.addEventListener("change", function () { typed = true; }, true);
      function inField() {
        var a = document.activeElement;
        return !!a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
      }
      function ask() {
        fetch("/changes-since?v=" + encodeURIComponent(version), { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (answer) {
            if (!answer) { setTimeout(ask, \(retryMillis)); return; }
            if (!answer.changed) { setTimeout(ask, \(pollMillis)); return; }
            if (body.getAttribute("data-reload") === "auto" && !typed && !inField()) { location.reload(); return; }
            bar.hidden = false;
          }, function () { setTimeout(ask, \(retryMillis)); });
      }
      setTimeout(ask, \(pollMillis));
    })();
    """

    /// The CSP source that allows exactly `script`.
    static let scriptSource = "'sha256-" + Data(SHA256.hash(data: Data(script.utf8))).base64EncodedString() + "'"

    /// What a page is rendered with: the version read before the page read the replica (so a
    /// commit made while it was being rendered is still seen as new), and whether it may reload
    /// itself (not a page answering a form: reloading would send the form again).
    struct PageContext: Sendable {
        var version: Int
        var mayReload: Bool
    }

    @TaskLocal static var page: PageContext?

    /// `GET /changes-since?v=N`: whether the replica's version has moved past N. One pragma read.
    /// While *Sync now* runs (`syncing`) nothing has changed yet: a long sync commits page after
    /// page, and each open page reloaded itself every two seconds until it ended (the scale
    /// audit); each reloads once when it has. The Sync page shows its progress on its own.
    static func answer(_ request: Request, version: ReplicaVersion, syncing: () -> Bool = { false }) throws -> Response {
        let asked = FormBody(request.uri.query ?? "")["v"].flatMap(Int.init)
        let now = try version.current()
        let body = "{\"changed\":\(asked != now && !syncing()),\"version\":\(now)}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
