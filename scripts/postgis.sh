#!/usr/bin/env bash
# PostgreSQL + PostGIS for truceline's PostGIS store, from Debian's packages. Idempotent: installs only
# what is missing, starts the cluster if it is down, creates the role and the database if they do not
# exist (and sets the role's password), enables PostGIS in the database. Prints the store URL on stdout
# (everything else goes to stderr), so that:
#
#   export TRUCELINE_STORE=$(bash scripts/postgis.sh)              # the store of `truceline ... --store`
#   export TRUCELINE_TEST_PG_URL=$(bash scripts/postgis.sh --test)  # a throw-away database for the tests
#
# Options:
#   --test       (re)create the throw-away test database ($TRUCELINE_PG_TEST_DB, default truceline_test):
#                dropped with everything in it, then created empty with PostGIS
#   --drop-test  drop the test database and exit (prints nothing)
# Environment (defaults in brackets): TRUCELINE_PG_USER [truceline], TRUCELINE_PG_PASSWORD [truceline],
# TRUCELINE_PG_DB [truceline], TRUCELINE_PG_TEST_DB [truceline_test], TRUCELINE_PG_VERSION [15],
# TRUCELINE_PG_CLUSTER [main]. The default password is for a development machine and CI only: set
# TRUCELINE_PG_PASSWORD anywhere else. The server listens on 127.0.0.1 (Debian's default) and the role
# logs in with its password (scram-sha-256, Debian's pg_hba.conf for 127.0.0.1).
#
# Runs as root (apt-get, pg_ctlcluster) or with sudo; PostgreSQL itself never runs as root: the Debian
# tooling (pg_ctlcluster) starts it as the cluster's owner, and SQL is run as `postgres` (runuser).
set -euo pipefail
# Only the URL goes to stdout: everything any tool prints (pg_ctlcluster says "Removed stale pid file."
# on stdout after an unclean shutdown) goes to stderr; fd 3 keeps the real stdout for the URL.
exec 3>&1 1>&2

MODE=main
case "${1:-}" in
    "") ;;
    --test) MODE=test ;;
    --drop-test) MODE=drop-test ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&3; exit 0 ;;
    *) echo "postgis.sh: unknown option '$1' (--test, --drop-test, --help)" >&2; exit 2 ;;
esac

PGVER="${TRUCELINE_PG_VERSION:-15}"
CLUSTER="${TRUCELINE_PG_CLUSTER:-main}"
PGUSER_NAME="${TRUCELINE_PG_USER:-truceline}"
PGPASS="${TRUCELINE_PG_PASSWORD:-truceline}"
MAIN_DB="${TRUCELINE_PG_DB:-truceline}"
TEST_DB="${TRUCELINE_PG_TEST_DB:-truceline_test}"

log() { echo "postgis.sh: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    log "not root and no sudo: run it as root (apt-get, pg_ctlcluster)"
    exit 1
fi

# -- packages ------------------------------------------------------------------------------------
missing=()
for pkg in postgresql "postgresql-$PGVER" postgis "postgresql-$PGVER-postgis-3"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- the cluster ---------------------------------------------------------------------------------
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PGVER" -v c="$CLUSTER" '$1 == v && $2 == c {f=1} END {exit !f}'; then
    log "creating cluster $PGVER/$CLUSTER"
    $SUDO pg_createcluster "$PGVER" "$CLUSTER" >/dev/null
fi
PORT="$(pg_lsclusters -h | awk -v v="$PGVER" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')"
if ! pg_lsclusters -h | awk -v v="$PGVER" -v c="$CLUSTER" '$1 == v && $2 == c && $4 ~ /^online/ {f=1} END {exit !f}'; then
    log "starting cluster $PGVER/$CLUSTER on port $PORT"
    $SUDO pg_ctlcluster "$PGVER" "$CLUSTER" start 3>&-  # the server must not hold the URL's pipe open
fi
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "PostgreSQL $PGVER/$CLUSTER does not answer on 127.0.0.1:$PORT"; exit 1; }

# SQL as the superuser `postgres`, through the local socket (peer authentication); psql variables quote
# the names and the password (:'x' a literal, :"x" an identifier), never the shell.
as_postgres() {
    local db="$1"
    shift
    $SUDO runuser -u postgres -- env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d "$db" \
        -v user="$PGUSER_NAME" -v pass="$PGPASS" "$@"
}

# -- the role ------------------------------------------------------------------------------------
as_postgres postgres <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user')
\gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pass';
SQL

# A database owned by the role, with PostGIS (creating the extension needs the superuser; the store's own
# `CREATE EXTENSION IF NOT EXISTS postgis` then finds it there).
make_db() {
    local db="$1"
    as_postgres postgres -v db="$db" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
SQL
    as_postgres "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

drop_db() {
    as_postgres postgres -v db="$1" <<'SQL'
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db')
\gexec
SQL
}

case "$MODE" in
    main) DB="$MAIN_DB"; make_db "$DB" ;;
    test) DB="$TEST_DB"; drop_db "$DB"; make_db "$DB" ;;
    drop-test) drop_db "$TEST_DB"; exit 0 ;;
esac

# The password percent-encoded for the URL (python3 is on every machine that runs truceline).
ENC_PASS="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PGPASS")"
ENC_USER="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PGUSER_NAME")"
log "ready: database $DB on 127.0.0.1:$PORT (PostgreSQL $PGVER, PostGIS $(as_postgres "$DB" -tAc 'SELECT postgis_lib_version()'))"
echo "postgresql://$ENC_USER:$ENC_PASS@127.0.0.1:$PORT/$DB" >&3
