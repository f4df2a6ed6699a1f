import ClusterSyncCore
import Foundation

/// Text for a person at a terminal: aligned columns, local times.
public enum TextTable {
    /// Columns padded to their widest cell; the last column is left ragged.
    public static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public static func truncated(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    /// A change's clock as local wall time, `yyyy-MM-dd HH:mm`.
    public static func localTime(_ hlc: HLCTimestamp) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        formatter.timeZone = .current
        return formatter.string(from: Date(timeIntervalSince1970: Double(hlc.millis) / 1000))
    }
}
