#!/usr/bin/env bash
# Restores a Deploy/postgres-backup.sh backup into a database made by Deploy/postgres-setup.sh
# (Deploy/README.md, "Backup and restore"): into a new database, or the old one after its schema
# was dropped. It runs as clustersync_owner in one transaction: all of the backup or nothing.
#
#   sudo -u postgres Deploy/postgres-setup.sh --database clustersync_restored --out /var/lib/postgresql/clustersync-db
#   Deploy/postgres-restore.sh /var/lib/postgresql/clustersync-db/clustersync_restored.owner.postgres-url /var/backups/clustersync/20261130T0300Z.dump
#
# Then point the nodes at it (clustersync_restored.app.postgres-url) and start them one at a time. Read the
# README's "What a restore loses" first: pushes acknowledged after the backup are not in it.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: postgres-restore.sh OWNER_URL_FILE BACKUP_FILE" >&2; exit 1; }
url_file=$1 backup=$2
[ -s "$backup" ] || { echo "postgres-restore.sh: no backup at $backup" >&2; exit 1; }
# shellcheck source=Deploy/postgres-env.sh
. "$(dirname "$0")/postgres-env.sh"
postgres_env_from_url_file "$url_file"

tables=$(psql -X -q -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'clustersync'")
[ "$tables" = 0 ] || { echo "postgres-restore.sh: the database already has $tables ClusterSync tables: restore into a new database (postgres-setup.sh --database NAME)" >&2; exit 1; }

# The schema exists (postgres-setup.sh made it, with its grants): restore everything in it but
# the schema itself.
list=$(mktemp)
trap 'rm -f "$PGPASSFILE" "$list"' EXIT
pg_restore --list "$backup" | grep -v ' SCHEMA - clustersync ' >"$list"
pg_restore --exit-on-error --single-transaction --no-owner --role=clustersync_owner \
    --use-list="$list" --dbname="$PGDATABASE" "$backup"
# Grants on the restored tables come from postgres-setup.sh's default privileges; re-applied here
# in case the backup came from a database set up otherwise.
psql -X -q -v ON_ERROR_STOP=1 -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA clustersync TO clustersync_app" \
    -c "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA clustersync TO clustersync_app"
# The restored stream is a store of its own: a new identity (welcome.store, PROTOCOL.md §5.2)
# tells replicas whose cursors belong to the old one to push their changes again and pull from
# the start. A backup from before store identities gets one when `clustersyncd migrate` runs.
if [ "$(psql -X -q -tAc "SELECT to_regclass('clustersync.store_identity') IS NOT NULL")" = t ]; then
    psql -X -q -v ON_ERROR_STOP=1 -c "UPDATE clustersync.store_identity SET id = replace(gen_random_uuid()::text, '-', '')"
fi
echo "restored $backup; tenants and their last sequence numbers:"
psql -X -q -tA -F ' up to seq ' -c "SELECT name, last_seq FROM clustersync.tenant ORDER BY name"
