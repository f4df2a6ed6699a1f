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

    /// Binds `values` (Int64, String, bytes or nil) to ?1, ?2, ... and runs the statement to completion.
    public func run(_ values: BindValue...) throws {
        let handle = bind(values)
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code) }
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
