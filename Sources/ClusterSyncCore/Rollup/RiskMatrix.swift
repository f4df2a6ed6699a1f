/// Counts of risks on the NHS 5x5 matrix: `counts[likelihood - 1][consequence - 1]`. The web
/// app's heat map, `clustersync rollup` and the board report all draw this one table.
public struct RiskMatrix: Sendable, Equatable, Codable {
    public private(set) var counts: [[Int]]

    public init() { counts = Array(repeating: Array(repeating: 0, count: 5), count: 5) }

    public init(scores: some Sequence<RiskScore>) {
        self.init()
        for score in scores { add(score) }
    }

    public mutating func add(_ score: RiskScore, count: Int = 1) {
        counts[score.likelihood - 1][score.consequence - 1] += count
    }

    public func count(likelihood: Int, consequence: Int) -> Int { counts[likelihood - 1][consequence - 1] }

    public var total: Int { counts.joined().reduce(0, +) }

    public static func + (a: RiskMatrix, b: RiskMatrix) -> RiskMatrix {
        var sum = a
        for l in 0..<5 { for c in 0..<5 { sum.counts[l][c] += b.counts[l][c] } }
        return sum
    }

    public init(from decoder: any Decoder) throws {
        let counts = try decoder.singleValueContainer().decode([[Int]].self)
        guard counts.count == 5, counts.allSatisfy({ $0.count == 5 && $0.allSatisfy { $0 >= 0 } }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected 5 rows of 5 counts"))
        }
        self.counts = counts
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(counts)
    }
}
