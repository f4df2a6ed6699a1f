#!/usr/bin/env bash
# Creates ClusterSync's PostgreSQL database and its two roles (Deploy/README.md, "PostgreSQL").
# Run once per cluster of nodes, as a PostgreSQL superuser, e.g. on the database machine:
#
#   sudo -u postgres Deploy/postgres-setup.sh --host db.bcuhb.nhs.wales --out /var/lib/postgresql/clustersync-db
#
# Options (all optional):
#   --database NAME   the database (default clustersync)
#   --host NAME       the name the nodes connect to, in the URLs written (default: this machine's
#                     fully qualified name); it must match the PostgreSQL server certificate
#   --port N          (default 5432)
#   --root-cert FILE  where the nodes will find the CA certificate that signed PostgreSQL's
#                     certificate (default /etc/clustersyncd/postgres-ca.pem)
#   --nodes CIDR      the nodes' addresses, for the pg_hba.conf lines printed (default 10.0.0.0/8)
#   --sslmode MODE    written into the URLs: verify-full (default), or disable for a loopback test
#   --out DIR         where to write DATABASE.owner.postgres-url and DATABASE.app.postgres-url
#                     (default .), 0600; keep it: a later run (a restore database) reuses the passwords
# psql connects as usual (PGHOST, PGPORT, PGUSER, a local socket by default).
#
# Two roles, because a node faces hostile clients and should hold no more than it needs:
#   clustersync_owner  owns the schema `clustersync` and its tables: it applies migrations (at
#                      install and at each upgrade). Its URL stays with the operator, not on the nodes.
#   clustersync_app    what every node logs in as: it may read and write rows (SELECT, INSERT,
#                      UPDATE, DELETE, sequences), and nothing else: no CREATE, ALTER, DROP,
#                      TRUNCATE, no triggers, no other database. A compromised node cannot change
#                      the schema or drop the log in one statement, and its connections are capped.
# Tables the owner creates in later migrations are granted to clustersync_app automatically
# (ALTER DEFAULT PRIVILEGES), so an upgrade needs no new grants. Running this again changes no
# data: it keeps existing roles and their passwords (found in --out; new ones only with
# --new-passwords) and re-applies the grants.
set -euo pipefail
umask 077

database=clustersync
host=$(hostname -f 2>/dev/null || hostname)
port=5432
root_cert=/etc/clustersyncd/postgres-ca.pem
nodes=10.0.0.0/8
sslmode=verify-full
out=.
new_passwords=false
app_connection_limit=${APP_CONNECTION_LIMIT:-200}
while [ $# -gt 0 ]; do
    case $1 in
        --database) database=$2; shift 2 ;;
        --host) host=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --root-cert) root_cert=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --sslmode) sslmode=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --new-passwords) new_passwords=true; shift ;;
        *) echo "postgres-setup.sh: unknown option $1 (see the top of this file)" >&2; exit 1 ;;
    esac
done
[[ $database =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "postgres-setup.sh: --database must be lowercase letters, digits and _" >&2; exit 1; }
case $sslmode in verify-full|disable) ;; *) echo "postgres-setup.sh: --sslmode must be verify-full or disable" >&2; exit 1 ;; esac
mkdir -p "$out"

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
exists() { [ "$(psql_admin -d postgres -tAc "$1")" = 1 ]; }

# Passwords: 48 hex digits (no characters that need escaping in a URL). Set with statement
# logging off for the transaction, so they do not reach the server's log.
set_password() {
    local role=$1 password=$2
    psql_admin -d postgres -v role="$role" -v password="$password" <<'SQL'
BEGIN;
SET LOCAL log_statement = 'none';
SET LOCAL log_min_duration_statement = -1;
ALTER ROLE :"role" PASSWORD :'password';
COMMIT;
SQL
}

write_url() {
    local role=$1 password=$2 file=$3
    local query="sslmode=$sslmode"
    [ "$sslmode" = disable ] || query="$query&sslrootcert=$root_cert"
    printf 'postgres://%s:%s@%s:%s/%s?%s\n' "$role" "$password" "$host" "$port" "$database" "$query" >"$file.new"
    chmod 600 "$file.new"
    mv "$file.new" "$file"
    echo "wrote $file"
}

# A role's password as an earlier run wrote it, for any database, or nothing.
known_password() {
    local file
    for file in "$out"/*."$1".postgres-url; do
        [ -s "$file" ] || continue
        sed -n 's|^postgres://[^:]*:\([^@]*\)@.*|\1|p' "$file"
        return
    done
}

for role in clustersync_owner clustersync_app; do
    kind=${role#clustersync_}
    file="$out/$database.$kind.postgres-url"
    password=""
    if ! exists "SELECT 1 FROM pg_roles WHERE rolname = '$role'"; then
        psql_admin -d postgres -c "CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
    elif ! $new_passwords; then
        password=$(known_password "$kind")
        [ -n "$password" ] || echo "role $role exists but no URL of it is in $out: giving it a new password (nodes using the old one need the new URL)"
    fi
    if [ -z "$password" ]; then
        password=$(openssl rand -hex 24)
        set_password "$role" "$password"
    fi
    write_url "$role" "$password" "$file"
done
psql_admin -d postgres -c "ALTER ROLE clustersync_app CONNECTION LIMIT $app_connection_limit"

if ! exists "SELECT 1 FROM pg_database WHERE datname = '$database'"; then
    psql_admin -d postgres -c "CREATE DATABASE $database OWNER clustersync_owner ENCODING 'UTF8' TEMPLATE template0"
fi

psql_admin -d "$database" -v db="$database" <<'SQL'
-- Only ClusterSync's roles may connect; no one may make temporary tables.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO clustersync_owner, clustersync_app;
-- Nothing in public (PostgreSQL 15 already denies CREATE there; older versions did not).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS clustersync AUTHORIZATION clustersync_owner;
ALTER ROLE clustersync_owner IN DATABASE :"db" SET search_path = clustersync;
ALTER ROLE clustersync_app IN DATABASE :"db" SET search_path = clustersync;
GRANT USAGE ON SCHEMA clustersync TO clustersync_app;
-- Rows, not structure: for the tables there now and those later migrations add.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA clustersync TO clustersync_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA clustersync TO clustersync_app;
ALTER DEFAULT PRIVILEGES FOR ROLE clustersync_owner IN SCHEMA clustersync
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clustersync_app;
ALTER DEFAULT PRIVILEGES FOR ROLE clustersync_owner IN SCHEMA clustersync
    GRANT USAGE, SELECT ON SEQUENCES TO clustersync_app;
SQL

echo "database $database ready: schema clustersync owned by clustersync_owner; nodes log in as clustersync_app"
if [ "$sslmode" = verify-full ]; then
    cat <<EOF

PostgreSQL must offer TLS and refuse the roles without it. In postgresql.conf:
    ssl = on
    ssl_cert_file = '/etc/postgresql/tls/server.pem'     # for the name $host
    ssl_key_file = '/etc/postgresql/tls/server-key.pem'
    ssl_min_protocol_version = 'TLSv1.2'
    password_encryption = 'scram-sha-256'
and in pg_hba.conf, above any broader line:
    hostssl   $database  clustersync_app    $nodes  scram-sha-256
    hostssl   $database  clustersync_owner  $nodes  scram-sha-256
    hostnossl $database  all                all     reject
Then reload PostgreSQL (SELECT pg_reload_conf();), copy the CA certificate that signed
server.pem to $root_cert on each node, and $database.app.postgres-url to
/etc/clustersyncd/<node>.postgres-url (root-owned, 0600).
EOF
fi
