import Foundation
import GRDB
import GRDBSQLite

/// A prepared GRDB statement run through SQLite's own binding calls.
///
/// Used only on the hot path of applying changes, inside a GRDB write transaction: GRDB's
/// `StatementArguments` box every argument, which costs more than the insert itself when a
/// batch holds a hundred thousand changes. Connection, transaction and schema stay GRDB's.
public struct BoundStatement {
    private let statement: Statement
    private let db: Database

    public init(_ db: Database, sql: String) throws {
        self.db = db
        // Cached per connection: a writer made for each transaction prepares nothing twice.
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds `values` (Int64, String, bytes or nil) to ?1, ?2, ... and runs the statement to
    /// completion; returns the rows it changed (`sqlite3_changes`: 0 for an insert that met
    /// its conflict and did nothing).
    @discardableResult
    public func run(_ values: BindValue...) throws -> Int {
        try finish(bind(values))
    }

    /// Runs the statement with the values `bind` sets by position (from 1) and returns the rows
    /// it changed, as `run(_:)` does. For the statements run once per change: no array of
    /// values is made, and text is bound where it lies in `text` (`Parameters.bind(_:in:)`),
    /// which SQLite reads during the run without a copy of its own.
    @discardableResult
    public func run(text: RunText? = nil, binding bind: (Parameters) -> Void) throws -> Int {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        // Text bound in place must not outlive the run: the bindings are cleared before the
        // buffer can move.
        defer { sqlite3_clear_bindings(handle) }
        guard let text else {
            bind(Parameters(handle: handle, text: nil))
            return try finish(handle)
        }
        return try text.bytes.withUnsafeBufferPointer { bytes in
            bind(Parameters(handle: handle, text: bytes))
            return try finish(handle)
        }
    }

    /// One run's values, set by position.
    public struct Parameters {
        fileprivate let handle: OpaquePointer
        fileprivate let text: UnsafeBufferPointer<UInt8>?

        public func bind(_ index: Int32, _ value: Int64) {
            sqlite3_bind_int64(handle, index, value)
        }

        /// The text at `range` of the run's `RunText`, read where it lies; NULL for nil.
        public func bind(_ index: Int32, in range: Range<Int>?) {
            guard let range, let text else {
                sqlite3_bind_null(handle, index)
                return
            }
            // An empty text has no address of its own, and SQLite binds text without one as NULL.
            let start = range.isEmpty ? emptyText : UnsafeRawPointer(text.baseAddress! + range.lowerBound).assumingMemoryBound(to: CChar.self)
            sqlite3_bind_text(handle, index, start, Int32(range.count), nil)
        }
    }

    private func finish(_ handle: OpaquePointer) throws -> Int {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code) }
        return Int(sqlite3_changes(sqlite3_db_handle(handle)))
    }

    /// Binds `values` as `run` does and reads the first row the query returns with `read`
    /// (given the statement, for `sqlite3_column_*`); nil when it returns none.
    public func firstRow<T>(_ values: BindValue..., read: (OpaquePointer) -> T) throws -> T? {
        let handle = bind(values)
        // Reset when read: a statement left stepping would hold its read open.
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return read(handle)
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    /// The text of a row's column; nil for NULL.
    public static func text(_ handle: OpaquePointer, _ column: Int32) -> String? {
        sqlite3_column_text(handle, column).map { String(cString: $0) }
    }

    private func bind(_ values: [BindValue]) -> OpaquePointer {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let i): sqlite3_bind_int64(handle, index, i)
            case .text(let s): _ = s.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) }
            case .blob(let data) where data.isEmpty: sqlite3_bind_zeroblob(handle, index, 0)
            case .blob(let data): _ = data.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
            case .null: sqlite3_bind_null(handle, index)
            }
        }
        return handle
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    public enum BindValue {
        case int(Int64)
        case text(String)
        case blob(Data)
        case null

        public static func optional(_ s: String?) -> BindValue { s.map(BindValue.text) ?? .null }
    }
}

/// SQLite copies a transient value before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Where an empty text is bound from: SQLite binds text without an address as NULL.
private var emptyText: UnsafePointer<CChar> {
    UnsafeRawPointer(("" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The texts of one run of a `BoundStatement`, written one after another into a buffer reused
/// from run to run: a column's text needs no `String`, and SQLite reads it where it lies.
public struct RunText {
    fileprivate private(set) var bytes: [UInt8] = []

    public init() {}

    /// Empties the buffer for the next run, keeping its storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends what `write` writes (UTF-8); returns where it lies, for `Parameters.bind(_:in:)`.
    public mutating func append(_ write: (inout [UInt8]) -> Void) -> Range<Int> {
        let start = bytes.count
        write(&bytes)
        return start..<bytes.count
    }

    /// Appends `text`'s UTF-8; returns where it lies.
    public mutating func append(_ text: String) -> Range<Int> {
        var text = text
        return text.withUTF8 { utf8 in append { $0.append(contentsOf: utf8) } }
    }
}
