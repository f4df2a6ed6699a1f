/// `precondition` that keeps its message in optimised builds, where the fuzzers run: a finding
/// must say what broke.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
