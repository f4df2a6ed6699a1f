@testable import ClusterSyncApp
import Testing

/// The app shows dates as people in Wales write them, in the library's sentences too.
@Suite struct WalesDatesTests {
    @Test func datesInASentenceAreShownAsInWales() {
        #expect(WalesDates.shown(inText: "no terms of reference for gp-collaborative in force on 2026-03-01")
                == "no terms of reference for gp-collaborative in force on 1 Mar 2026")
        #expect(WalesDates.shown(inText: "from 2026-04-01 to 2027-03-31") == "from 1 Apr 2026 to 31 Mar 2027")
        // Not dates: left as they are.
        #expect(WalesDates.shown(inText: "TOR-7K3M9Q2X1C, 2026-13-45, 12-2026") == "TOR-7K3M9Q2X1C, 2026-13-45, 12-2026")
    }
}
