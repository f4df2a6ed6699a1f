/// Practices' contributions to the cluster plan (QAIF CND015W, CND016W: shared with the Health
/// Board by 30 September, to feed the IMTP cycle), for the QAIF year containing the roll-up's day
/// and the one before, whose deadline has passed: which practices contributed, on time or late.
/// Practice ids only; the server names one the cluster did not register as such, and adds the
/// registered practices with none (`ClusterRollup.namingOnly`).
public struct PlanContributionCounts: Sendable, Equatable, Codable {
    public var year: Year
    public var lastYear: Year

    public struct Year: Sendable, Equatable, Codable {
        /// `2026-27`.
        public var year: String
        public var deadline: CalendarDate
        /// Each practice that contributed for the year, on its earliest dated contribution.
        public var practices: [Practice] = []
        /// Practices by status: `on-time`, `late`, `undated`.
        public var byStatus = ["on-time": 0, "late": 0, "undated": 0]
        /// Filled in by the server: the practices it registered with no contribution for the year.
        public var registeredWithout: [AttendanceCounts.Unlisted] = []

        enum CodingKeys: String, CodingKey {
            case year, deadline, practices
            case byStatus = "by_status", registeredWithout = "registered_without"
        }

        init(_ year: QAIFYear, cluster: String, made: [RollupContribution.PlanContribution]) {
            self.year = year.description
            deadline = year.contributionDeadline
            var earliest: [String: CalendarDate?] = [:]
            for contribution in made where contribution.year == self.year {
                let known = earliest[contribution.practice] ?? nil
                earliest[contribution.practice] = [known, contribution.date].compactMap { $0 }.min()
            }
            practices = earliest.keys.sorted().map { practice in
                let date = earliest[practice] ?? nil
                let status = date.map { $0 <= deadline ? "on-time" : "late" } ?? "undated"
                return Practice(cluster: cluster, practice: practice, date: date, status: status)
            }
            for p in practices { byStatus[p.status, default: 0] += 1 }
        }

        static func + (a: Year, b: Year) -> Year {
            var s = a
            s.practices = (a.practices + b.practices).sorted { ($0.cluster, $0.practice) < ($1.cluster, $1.practice) }
            s.byStatus = a.byStatus.merging(b.byStatus, uniquingKeysWith: +)
            s.registeredWithout = (a.registeredWithout + b.registeredWithout).sorted { ($0.cluster, $0.practice) < ($1.cluster, $1.practice) }
            return s
        }
    }

    public struct Practice: Sendable, Equatable, Codable {
        public var cluster: String
        public var practice: String
        public var date: CalendarDate?
        /// `on-time`, `late` or `undated`.
        public var status: String
    }

    enum CodingKeys: String, CodingKey { case year, lastYear = "last_year" }

    public init(cluster: String, made: [RollupContribution.PlanContribution], today: CalendarDate) {
        let current = QAIFYear(containing: today)
        year = Year(current, cluster: cluster, made: made)
        lastYear = Year(QAIFYear(startYear: current.startYear - 1), cluster: cluster, made: made)
    }

    public static func + (a: PlanContributionCounts, b: PlanContributionCounts) -> PlanContributionCounts {
        var s = a
        s.year = a.year + b.year
        s.lastYear = a.lastYear + b.lastYear
        return s
    }

    /// As readers outside the cluster get them: a practice the cluster did not register reads
    /// `ClusterRollup.unregisteredPractice`, and the registered GP practices with none are
    /// listed (`owing`; the indicator is the GP contract's).
    func namingOnly(registered practices: Set<String>, owing: Set<String>, cluster: String) -> PlanContributionCounts {
        func named(_ year: Year) -> Year {
            var y = year
            let made = Set(y.practices.map(\.practice))
            y.registeredWithout = owing.subtracting(made).sorted().map { AttendanceCounts.Unlisted(cluster: cluster, practice: $0) }
            for index in y.practices.indices where !practices.contains(y.practices[index].practice) {
                y.practices[index].practice = ClusterRollup.unregisteredPractice
            }
            return y
        }
        var s = self
        s.year = named(year)
        s.lastYear = named(lastYear)
        return s
    }
}
