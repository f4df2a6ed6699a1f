import Foundation

/// The period a board report covers: a financial year (`2026-27`, 1 April to 31 March, as the
/// Health Board's annual report runs) or any range of days (`2026-04-01..2026-09-30`).
public struct ReportPeriod: Sendable, Equatable, CustomStringConvertible {
    public var first: CalendarDate
    public var last: CalendarDate

    public init?(first: CalendarDate, last: CalendarDate) {
        guard first <= last else { return nil }
        self.first = first
        self.last = last
    }

    public init(year: some TwelveMonthYear) {
        first = year.first
        last = year.last
    }

    /// Reads `2026-27`, or two dates as people type them (`YYYY-MM-DD` or `DD/MM/YYYY`) joined by
    /// `..`, ` to ` or a dash with spaces: `01/04/2026 to 30/09/2026` as the app's other date boxes
    /// take dates (web app audit: only `2026-04-01..2026-09-30` was read). Nil for anything else.
    /// A financial year may be written with a slash too (`2026/27`, as board papers write it:
    /// web app audit).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let year = FinancialYear(trimmed) ?? FinancialYear(trimmed.replacingOccurrences(of: "/", with: "-")) {
            self.init(year: year)
            return
        }
        for separator in ["..", " to ", " - ", " – "] {
            let parts = trimmed.components(separatedBy: separator)
            guard parts.count == 2 else { continue }
            guard let a = CalendarDate(typed: parts[0].trimmingCharacters(in: .whitespaces)),
                  let b = CalendarDate(typed: parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            self.init(first: a, last: b)
            return
        }
        return nil
    }

    /// Why `text`, written as two dates, is no period, in words (a date naming no day, a
    /// spreadsheet's date number, the first after the last); nil when it is one, or is not
    /// written as two dates.
    public static func problem(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for separator in ["..", " to ", " - ", " – "] {
            let parts = trimmed.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if let reason = parts.lazy.compactMap({ CalendarDate.problem(typed: $0) }).first { return reason }
            // A period copied from a spreadsheet's cells not formatted as dates: say which days.
            if let (part, note) = parts.lazy.compactMap({ part in CalendarDate.spreadsheetNote(typed: part).map { (part, $0) } }).first {
                return "\(part) is no date, \(note)"
            }
            if let a = CalendarDate(typed: parts[0]), let b = CalendarDate(typed: parts[1]), a > b { return "the first day is after the last" }
            return nil
        }
        return nil
    }

    public func contains(_ date: CalendarDate) -> Bool { first <= date && date <= last }

    /// The month ends from the first month through `until`'s month, the last one cut to `until`
    /// (a report made mid-month shows that month as of its day).
    public func monthEnds(until: CalendarDate) -> [CalendarDate] {
        let end = min(last, until)
        var result: [CalendarDate] = []
        var month = CalendarDate(year: first.year, month: first.month, day: 1)
        while month <= end {
            result.append(min(month.endOfMonth, end))
            month = month.month == 12 ? CalendarDate(year: month.year + 1, month: 1, day: 1) : CalendarDate(year: month.year, month: month.month + 1, day: 1)
        }
        return result
    }

    public var description: String {
        let year = FinancialYear(containing: first)
        if first == year.first, last == year.last { return year.description }
        return "\(first)..\(last)"
    }
}
