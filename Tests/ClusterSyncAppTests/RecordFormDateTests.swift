@testable import ClusterSyncApp
import ClusterSyncCore
import Testing

/// What a record form's date box says of what was typed in it, in the form's words.
@Suite struct RecordFormDateTests {
    let t = Catalogue.english
    let today = CalendarDate(year: 2026, month: 12, day: 7)

    func problems(_ typed: String) -> [String] {
        let form = RecordForm.of(.action)!
        guard case .refused(let problems) = form.edits(from: FormBody("title=Roof&due_date=\(typed)"), current: nil, today: today, t: t)
        else { return [] }
        return problems.map(\.message)
    }

    /// A spreadsheet's date number pasted from a column not formatted as dates names the day it
    /// stands for, as import and the CLI do, and is never taken as that day.
    @Test func aSpreadsheetsDateNumberNamesItsDay() {
        #expect(problems("46113") == ["Due date must be a date like 15/12/2026; got \"46113\", which is how a spreadsheet saves 01/04/2026 "
            + "in a column not formatted as dates: type the date (01/04/2026, if that is the day meant)"])
    }

    @Test func otherTextSaysOnlyWhatADateLooksLike() {
        #expect(problems("soon") == ["Due date must be a date like 15/12/2026; got \"soon\""])
        // Too small to be a day a register holds: not a spreadsheet's date.
        #expect(problems("123") == ["Due date must be a date like 15/12/2026; got \"123\""])
        #expect(problems("01/04/2026").isEmpty)
    }
}
