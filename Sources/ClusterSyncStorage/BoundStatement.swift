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

    /// Binds `values` (Int64, String or nil) to ?1, ?2, ... and runs the statement to completion.
    public func run(_ values: BindValue...) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let i): sqlite3_bind_int64(handle, index, i)
            case .text(let s): _ = s.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) }
            case .null: sqlite3_bind_null(handle, index)
            }
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    public enum BindValue {
        case int(Int64)
        case text(String)
        case null

        public static func optional(_ s: String?) -> BindValue { s.map(BindValue.text) ?? .null }
    }
}

/// SQLite copies a transient value before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
