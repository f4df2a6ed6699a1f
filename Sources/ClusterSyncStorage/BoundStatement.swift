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
    /// values is made, and text can be bound from bytes, so a column's text needs no `String`.
    @discardableResult
    public func run(binding bind: (Parameters) -> Void) throws -> Int {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        bind(Parameters(handle: handle))
        return try finish(handle)
    }

    /// One run's values, set by position.
    public struct Parameters {
        fileprivate let handle: OpaquePointer

        public func bind(_ index: Int32, _ value: Int64) {
            sqlite3_bind_int64(handle, index, value)
        }

        /// Text, or NULL for nil.
        public func bind(_ index: Int32, _ value: String?) {
            guard var value else {
                sqlite3_bind_null(handle, index)
                return
            }
            value.withUTF8 { bindText($0, at: index) }
        }

        /// UTF-8 text, or NULL for nil.
        public func bind(_ index: Int32, utf8 bytes: [UInt8]?) {
            guard let bytes else {
                sqlite3_bind_null(handle, index)
                return
            }
            bytes.withUnsafeBufferPointer { bindText($0, at: index) }
        }

        private func bindText(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int32) {
            // An empty buffer may have no address, which SQLite would bind as NULL.
            guard let start = bytes.baseAddress, !bytes.isEmpty else {
                _ = "".withCString { sqlite3_bind_text(handle, index, $0, 0, transient) }
                return
            }
            start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), transient)
            }
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
