@testable import ClusterSyncApp
import ClusterSyncCore
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

    /// A label inside a sentence ("changed the due date") loses its first capital only when its
    /// first word is not an acronym: history read "qaif year set to 2026-27", and a conflict over
    /// a member's vote named the member in lower case.
    @Test func aLabelInASentenceKeepsItsAcronymsAndNames() {
        #expect(Catalogue.inSentence("Due date") == "due date")
        #expect(Catalogue.inSentence("QAIF year") == "QAIF year")
        #expect(Catalogue.inSentence("RAG") == "RAG")
        #expect(Catalogue.inSentence("Vote of Ceri Lloyd") == "vote of Ceri Lloyd")
        #expect(Catalogue.inSentence("A") == "a")
        #expect(Catalogue.inSentence("") == "")
    }

    /// Every field of every record type has a label: the pages of a terms of reference, a plan
    /// and a contribution showed `field_date_agreed`, `field_quorum`, `field_contributor`
    /// (governance audit).
    @Test(arguments: RecordType.allCases) func everyFieldHasALabel(_ type: RecordType) {
        for field in type.schema.fields {
            #expect(Catalogue.english.strings["field_\(field.name)"] != nil, "\(type.rawValue).\(field.name)")
        }
    }
}
