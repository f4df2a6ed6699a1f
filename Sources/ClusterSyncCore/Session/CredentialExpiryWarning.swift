/// When a practice hears that its credential is about to expire: `clustersync status` warns
/// from 30 days before, so there is time to ask the cluster's administrator for a new one.
public enum CredentialExpiryWarning {
    public static let warnDays: Int64 = 30

    /// The warning to show at `now` (ms since 1970) for a credential expiring at `expiresAt`,
    /// or nil when there is more than `warnDays` left or no expiry.
    public static func warning(expiresAt: Int64?, now: Int64) -> String? {
        guard let expiresAt, expiresAt - now <= warnDays * 86_400_000 else { return nil }
        guard expiresAt > now else {
            return "this replica's credential has expired: ask the cluster's administrator for a new one, then `clustersync remote set`"
        }
        let days = (expiresAt - now + 86_399_999) / 86_400_000
        return "this replica's credential expires in \(days) day\(days == 1 ? "" : "s"): ask the cluster's administrator for a new one before then"
    }
}
