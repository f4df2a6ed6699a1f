# Sourced by Deploy/postgres-backup.sh and postgres-restore.sh: turns a ClusterSync PostgreSQL
# URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...&sslrootcert=...) into libpq's
# environment, with the password in a temporary 0600 password file rather than in argv or the
# environment, where other tools could show it.
# shellcheck shell=bash
postgres_env_from_url_file() {
    local url pattern query item
    url=$(tr -d '\n' <"$1")
    pattern='^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)(\?(.*))?$'
    [[ $url =~ $pattern ]] || { echo "$1 does not hold a URL postgres://USER:PASSWORD@HOST:PORT/DATABASE" >&2; return 1; }
    export PGUSER=${BASH_REMATCH[2]} PGHOST=${BASH_REMATCH[5]} PGPORT=${BASH_REMATCH[7]:-5432} PGDATABASE=${BASH_REMATCH[8]}
    local password=${BASH_REMATCH[4]}
    query=${BASH_REMATCH[10]}
    export PGSSLMODE=verify-full
    local IFS='&'
    for item in $query; do
        case $item in
            sslmode=*) PGSSLMODE=${item#sslmode=} ;;
            sslrootcert=*) export PGSSLROOTCERT=${item#sslrootcert=} ;;
        esac
    done
    PGPASSFILE=$(mktemp)
    export PGPASSFILE
    chmod 600 "$PGPASSFILE"
    printf '*:*:*:%s:%s\n' "$PGUSER" "$password" >"$PGPASSFILE"
    trap 'rm -f "$PGPASSFILE"' EXIT
}
