extension WireError {
    /// The wire form of `error`.
    public init(_ error: ClusterSyncError, fatal: Bool, batch: String? = nil, change: ChangeID? = nil) {
        self.init(code: error.code.rawValue, message: error.message, fatal: fatal, batch: batch, change: change)
    }
}

extension ClusterSyncError {
    /// The error a peer reported, for a client to throw.
    public init(_ error: WireError) {
        self.init(Code(error.code), error.message)
    }
}
