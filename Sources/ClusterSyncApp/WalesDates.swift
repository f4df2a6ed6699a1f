import ClusterSyncCore
import Foundation

/// Dates as people in Wales write them: shown as "15 Dec 2026", typed as 15/12/2026 (or
/// 15 Dec 2026, or ISO: `CalendarDate(typed:)`). Stored as ISO (`2026-12-15`) whatever was typed.
enum WalesDates {
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func shown(_ date: CalendarDate) -> String {
        "\(date.day) \(monthNames[date.month - 1]) \(date.year)"
    }

    /// An ISO date as shown; text that is not one is shown as it is.
    static func shown(iso: String) -> String {
        CalendarDate(iso).map(shown) ?? iso
    }

    /// As the form field shows it for editing: 15/12/2026.
    /// Every `YYYY-MM-DD` in a sentence the library wrote (a decision's checks), as `shown`.
    static func shown(inText text: String) -> String {
        guard text.contains("-") else { return text }
        return text.replacing(/\d{4}-\d{2}-\d{2}/) { match in
            CalendarDate(String(match.output)).map(shown) ?? String(match.output)
        }
    }

    static func typed(iso: String) -> String {
        guard let date = CalendarDate(iso) else { return iso }
        return String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
    }

    /// What a person typed, as ISO; nil if it is not a date (the core's rule, `CalendarDate(typed:)`).
    static func parse(_ text: String) -> String? {
        CalendarDate(typed: text)?.description
    }

    /// A moment (the hybrid clock's wall time) as "15 Dec 2026 14:05", in local time.
    static func moment(millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = .current
        formatter.dateFormat = "d MMM yyyy HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
