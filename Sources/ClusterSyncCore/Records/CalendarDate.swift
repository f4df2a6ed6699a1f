/// A calendar date without a time zone, as registers use them (`2026-11-23`).
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// Reads `YYYY-MM-DD`: exactly ten ASCII bytes, digits and two dashes (no signs, no spaces).
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for c in utf8[range] {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(c - UInt8(ascii: "0"))
            }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              (1...12).contains(m), d >= 1, d <= CalendarDate.daysIn(month: m, year: y)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// A date as a person in Wales types it: ISO (`2026-12-15`), or day, month, year in the UK
    /// order (`15/12/2026`, `15.12.26`, `15-12-2026`, `15 Dec 2026`), which is also what a
    /// spreadsheet saved in Wales writes into a CSV for a cell it took for a date. Never month
    /// first. Nil when the text is none of these, or names no such day, or a year outside 1900
    /// to 2999 (`problem(typed:)` says which). One rule for the CLI, the web app and import
    /// (`FieldInput`).
    public init?(typed text: some StringProtocol) {
        guard case .success(let date) = Self.reading(typed: text) else { return nil }
        self = date
    }

    /// Why `text` is no date as `init?(typed:)` reads dates, in words a message can end with:
    /// "there is no 31 February 2026" rather than asking for a format the text already has (the
    /// CLI audit).
    public static func problem(typed text: some StringProtocol) -> String? {
        guard case .failure(let problem) = reading(typed: text) else { return nil }
        switch problem {
        case .notADate: return nil
        case .noSuchMonth(let month): return "there is no month \(month) (a date is written day first, DD/MM/YYYY, or YYYY-MM-DD)"
        case .noSuchDay(let day, let month, let year):
            return "there is no \(day) \(monthNames[month - 1]) \(year) (\(monthNames[month - 1]) \(year) has \(daysIn(month: month, year: year)) days)"
        case .yearOutOfRange(let year): return "the year \(year) is outside 1900 to 2999"
        }
    }

    /// The day a spreadsheet's date number stands for, when `text` is one for a day from 1990
    /// to 2099: Excel and LibreOffice count days from 30 December 1899 (46113 is 1 April 2026),
    /// and save a date column not formatted as dates so, a time as a fraction (46113.5). Read
    /// to say what the number would be, never taken as the date: a bare number typed in the
    /// CLI or a form is no date, and guessing would write a day nobody chose.
    public static func spreadsheetDay(typed text: some StringProtocol) -> CalendarDate? {
        let trimmed = String(text).trimmingWhitespace
        let whole = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let days = whole.first.flatMap({ $0.count == 5 && $0.allSatisfy { $0.isASCII && $0.isNumber } ? Int($0) : nil }),
              whole.count == 1 || whole[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              (32874...73050).contains(days) else { return nil }
        return CalendarDate(dayNumber: days - 25569)
    }

    /// What a refusal of `text` as a date adds when it is a spreadsheet's date number: the day
    /// it stands for and what to do (the import audit: "46113" was refused without a word of
    /// what it was). One wording for every date the library reads: a field's, an attendee's
    /// day agreed.
    public static func spreadsheetNote(typed text: some StringProtocol) -> String? {
        spreadsheetDay(typed: text).map {
            "which is how a spreadsheet saves \($0.dayFirst) in a column not formatted as dates: format the column as dates "
                + "(or type the date) and try again"
        }
    }

    enum TypedDateProblem: Error { case notADate, noSuchMonth(Int), noSuchDay(Int, Int, Int), yearOutOfRange(Int) }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                             "November", "December"]

    private static func reading(typed text: some StringProtocol) -> Result<CalendarDate, TypedDateProblem> {
        let trimmed = Substring(text).drop { $0.isWhitespace }
        let end = trimmed.lastIndex { !$0.isWhitespace }.map { trimmed.index(after: $0) } ?? trimmed.startIndex
        var typed = trimmed[..<end]
        // A spreadsheet's date cell may carry a time: "01/11/2026 00:00", "01/12/2026 09:30"
        // (the day is the date as written), or midnight as a timestamp, "2026-11-01T00:00:00Z"
        // (another time of a UTC timestamp may be another day in Wales).
        if let cut = typed.firstIndex(where: { $0 == " " || $0 == "T" }), typed.index(after: cut) < typed.endIndex,
           typed[typed.index(after: cut)...].allSatisfy({ typed[cut] == " " ? ($0.isASCII && $0.isNumber) || $0 == ":" || $0 == "."
                                                                              : $0 == "0" || $0 == ":" || $0 == "." || $0 == "Z" }),
           typed[typed.index(after: cut)...].contains(":") {
            typed = typed[..<cut]
        }
        let parts = typed.split { $0 == "/" || $0 == "." || $0 == "-" || $0 == " " }
        let digits = { (part: Substring) in part.allSatisfy { $0.isASCII && $0.isNumber } }
        guard parts.count == 3 else { return .failure(.notADate) }
        let day: Int, month: Int, year: Int
        if parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, typed.utf8.count == 10, parts.allSatisfy(digits),
           typed.allSatisfy({ $0 != "/" && $0 != "." && $0 != " " }) {
            // ISO, YYYY-MM-DD.
            (year, month, day) = (Int(parts[0])!, Int(parts[1])!, Int(parts[2])!)
        } else {
            guard parts[0].count <= 2, digits(parts[0]), parts[2].count == 2 || parts[2].count == 4, digits(parts[2]) else {
                return .failure(.notADate)
            }
            day = Int(parts[0])!
            if parts[1].count <= 2, digits(parts[1]) {
                month = Int(parts[1])!
            } else if let index = Self.monthAbbreviations.firstIndex(where: { parts[1].lowercased().hasPrefix($0) }) {
                month = index + 1
            } else {
                return .failure(.notADate)
            }
            // Two digits: 1969–1999 for 69–99 and 2000–2068 for 00–68, as POSIX reads %y (so
            // "1/4/98", an interest declared long ago, is not 2098).
            let typedYear = Int(parts[2])!
            year = parts[2].count == 2 ? (typedYear >= 69 ? 1900 : 2000) + typedYear : typedYear
        }
        // "15/12/0026" is a slip for 2026, not the year 26; "0001-01-01" no register's date.
        guard (1900...2999).contains(year) else { return .failure(.yearOutOfRange(year)) }
        guard (1...12).contains(month) else { return .failure(.noSuchMonth(month)) }
        guard day >= 1, day <= Self.daysIn(month: month, year: year) else { return .failure(.noSuchDay(day, month, year)) }
        return .success(CalendarDate(year: year, month: month, day: day))
    }

    static let monthAbbreviations = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The UTC date of a moment given in milliseconds since 1970.
    public init(unixMillis: Int64) {
        self.init(dayNumber: Int(floorDivide(unixMillis, 86_400_000)))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    public var description: String { "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))" }

    /// DD/MM/YYYY, as people in Wales write a date and spreadsheets show it.
    public var dayFirst: String { "\(Self.pad(day, 2))/\(Self.pad(month, 2))/\(Self.pad(year, 4))" }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.dayNumber < b.dayNumber }
}

private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : (a - b + 1) / b
}
