@testable import ClusterSyncApp
import Foundation
import Testing

/// The same form's contents are answered once within the window; refused ones, later ones and
/// others are tried as new.
@Suite struct FormSubmissionsTests {
    @Test func theSameContentsWithinTheWindowGoWhereTheFirstWent() {
        let submissions = FormSubmissions()
        let meeting = FormSubmissions.fingerprint(path: "/meetings", FormBody("csrf=a&title=Cluster+board"))
        // The CSRF token is not the form's contents; the path and every other field are.
        #expect(meeting == FormSubmissions.fingerprint(path: "/meetings", FormBody("csrf=b&title=Cluster+board")))
        #expect(meeting != FormSubmissions.fingerprint(path: "/decisions", FormBody("csrf=a&title=Cluster+board")))
        #expect(meeting != FormSubmissions.fingerprint(path: "/meetings", FormBody("csrf=a&title=Cluster+board%2C+March")))
        let start = ContinuousClock.now
        #expect(submissions.claim(meeting, now: start) == .first)
        #expect(submissions.claim(meeting, now: start) == .again(nil))
        submissions.finish(meeting, at: "/records/MTG-6ADDT3V87T?saved=1")
        #expect(submissions.claim(meeting, now: start + .seconds(5)) == .again("/records/MTG-6ADDT3V87T?saved=1"))
        #expect(submissions.claim(meeting, now: start + FormSubmissions.window) == .first)
        let note = FormSubmissions.fingerprint(path: "/records/ACT-1/note", FormBody("note=Chased"))
        #expect(submissions.claim(note, now: start) == .first)
        submissions.release(note)
        #expect(submissions.claim(note, now: start) == .first)
        #expect(FormSubmissions.again("/records/ACT-1?saved=1#note") == "/records/ACT-1?again=1#note")
        #expect(FormSubmissions.again("/lists/LST-1") == "/lists/LST-1?again=1")
    }

    /// A record deleted (or an item taken off its list) may be made again with the same contents.
    @Test func whatWasDeletedMayBeMadeAgain() {
        let submissions = FormSubmissions()
        let item = FormSubmissions.fingerprint(path: "/lists/LST-1/items", FormBody("text=AOB"))
        let risk = FormSubmissions.fingerprint(path: "/risks", FormBody("title=Lift"))
        #expect(submissions.claim(item) == .first && submissions.claim(risk) == .first)
        submissions.finish(item, at: "/lists/LST-1")
        submissions.finish(risk, at: "/records/RSK-1?saved=1")
        submissions.forget(answeredAt: "/lists/LST-1")
        #expect(submissions.claim(item) == .first)
        #expect(submissions.claim(risk) == .again("/records/RSK-1?saved=1"))
        submissions.forget(answeredAt: "/records/RSK-1")
        #expect(submissions.claim(risk) == .first)
    }

    @Test func onlyTheLastKeptFormsAreRemembered() {
        let submissions = FormSubmissions()
        let keys = (0...FormSubmissions.kept).map { FormSubmissions.fingerprint(path: "/risks", FormBody("title=Risk+\($0)")) }
        for key in keys { #expect(submissions.claim(key) == .first) }
        #expect(submissions.claim(keys[0]) == .first)
        #expect(submissions.claim(keys[FormSubmissions.kept]) == .again(nil))
    }
}
