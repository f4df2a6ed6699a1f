#!/usr/bin/env bash
# A consistent backup of ClusterSync's PostgreSQL database while every node serves
# (Deploy/README.md, "Backup and restore"): pg_dump in one repeatable-read snapshot, so each
# tenant's change log is a whole prefix, in custom format (compressed; restored with
# Deploy/postgres-restore.sh). Run where the owner's URL is (never on the nodes):
#
#   Deploy/postgres-backup.sh /var/lib/postgresql/clustersync-db/clustersync.owner.postgres-url /var/backups/clustersync/$(date -u +%Y%m%dT%H%MZ).dump
#
# The URL is read from the file; its password reaches pg_dump in a temporary password file,
# never in argv or the environment (Deploy/postgres-env.sh).
# The backup holds credential hashes and the session log: it is written 0600.
set -euo pipefail
umask 077
[ $# -eq 2 ] || { echo "usage: postgres-backup.sh OWNER_URL_FILE BACKUP_FILE" >&2; exit 1; }
url_file=$1 backup=$2
[ ! -e "$backup" ] || { echo "postgres-backup.sh: $backup exists: give a new file name" >&2; exit 1; }
# shellcheck source=Deploy/postgres-env.sh
. "$(dirname "$0")/postgres-env.sh"
postgres_env_from_url_file "$url_file"

mkdir -p -m 700 "$(dirname "$backup")"
# A dump that failed leaves no partial file behind to be taken for a backup.
trap 'rm -f "$PGPASSFILE" "$backup.partial"' EXIT
pg_dump --format=custom --schema=clustersync --serializable-deferrable --file="$backup.partial"
# What it holds, for the log: each tenant's last sequence number.
summary=$(pg_restore --list "$backup.partial" | grep -c "TABLE DATA" || true)
mv "$backup.partial" "$backup"
echo "backed up to $backup ($(du -h "$backup" | cut -f1), $summary tables); tenants and their last sequence numbers now:"
psql -X -q -tA -F ' up to seq ' -c "SELECT name, last_seq FROM clustersync.tenant ORDER BY name" || true
