import ClusterSyncCore
import Testing

/// Help texts (`clustersync risk add --help`, the web app's forms) say what each field accepts.
@Suite struct FieldHelpTests {
    @Test(arguments: RecordType.allCases)
    func everyChoiceNamesItsValuesAndEveryDateItsFormat(_ type: RecordType) {
        for field in type.schema.fields {
            switch field.kind {
            case .choice(let values), .choiceSet(let values), .choiceMap(let values):
                for value in values {
                    #expect(field.helpText.contains(value), "\(type).\(field.name): \(field.helpText)")
                }
            case .date:
                #expect(field.helpText.contains("YYYY-MM-DD"), "\(type).\(field.name): \(field.helpText)")
            case .riskScore:
                #expect(field.helpText.contains("1 to 5"), "\(type).\(field.name): \(field.helpText)")
            default:
                #expect(field.helpText.hasPrefix(field.summary))
            }
        }
    }
}
