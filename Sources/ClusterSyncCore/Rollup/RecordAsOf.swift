/// A record as it stood at a moment in the past, rebuilt from its history: the changes stamped
/// at or before the moment, merged by the one rule (`FieldWrites`). A change that supersedes
/// another was made after seeing it, so its clock is later: no change after the moment can be
/// needed to read the state at it. Used for "risks by band over time" in the board report.
extension RecordView {
    /// `changes`: the record's changes (superseded ones included), in any order.
    public init(id: RecordID, scope: RecordScope, changes: some Sequence<Change>, asOf moment: HLCTimestamp) {
        var fields: [String: FieldWrites] = [:]
        for change in changes where change.record == id && change.hlc <= moment {
            fields[change.field, default: FieldWrites()].apply(change)
        }
        self.init(id: id, scope: scope, liveWrites: fields.values.flatMap { $0.live.values })
    }
}

extension CalendarDate {
    /// The last moment of this day (UTC), as a clock reading: what "as of the end of the day" means.
    public var endOfDay: HLCTimestamp {
        HLCTimestamp(millis: Int64(dayNumber + 1) * 86_400_000 - 1, logical: UInt16.max)
    }

    /// The last day of this date's month.
    public var endOfMonth: CalendarDate {
        CalendarDate(year: year, month: month, day: CalendarDate.daysIn(month: month, year: year))
    }
}
