@testable import ClusterSyncApp
import Testing

/// The app's words with a person's text put into them.
@Suite struct CatalogueTests {
    /// A value holding `{3}` stays as it was: arguments are put in one pass over the entry,
    /// never read for placeholders themselves (before, "Budget {3} approved" changed to
    /// "Budget not approved" read "from Budget Budget not approved approved").
    @Test func argumentsAreNeverReadForPlaceholders() {
        let english = Catalogue.english
        #expect(english["history_changed"].contains("{1}") && english["history_changed"].contains("{3}"))
        let shown = english.text("history_changed", "title", "Budget {3} approved", "Budget not approved")
        #expect(shown.contains("Budget {3} approved") && shown.contains("Budget not approved"), "\(shown)")
        #expect(!shown.contains("Budget Budget"), "\(shown)")
    }

    /// Every placeholder an entry has is filled, in any order, and braces that are not one stay.
    @Test func placeholdersAreFilledAndOtherBracesKept() {
        let catalogue = Catalogue(language: "en-GB", strings: ["k": "{2} before {1}; {x} and {9} and {"])
        #expect(catalogue.text("k", "one", "two") == "two before one; {x} and {9} and {")
    }
}
