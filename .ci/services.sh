# Sourced by .ci/run: the system packages and services the tests need (issue 8).
# Idempotent and quick when everything is already there; works on a fresh Debian machine as root.
#   chromium    - the HTML report is checked in a real headless browser
#   postgresql  - the store tests run against PostgreSQL as well as SQLite
# Exports RESIDENCY_AUDIT_TEST_PG for a throwaway cluster on loopback, stopped when .ci/run exits.

_ra_missing=()
command -v chromium >/dev/null 2>&1 || _ra_missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || _ra_missing+=(postgresql)
if [ "${#_ra_missing[@]}" -gt 0 ]; then
  echo "== apt-get install ${_ra_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_ra_missing[@]}" >/dev/null
fi

if [ -z "${RESIDENCY_AUDIT_TEST_PG:-}" ]; then
  _ra_pgbin="$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1)")"
  _ra_pgdir="$(mktemp -d)"
  _ra_pgport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  _ra_as_pg() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$_ra_pgdir"; runuser -u postgres -- "$@"; else "$@"; fi; }
  _ra_as_pg "$_ra_pgbin/initdb" -D "$_ra_pgdir/data" -A trust -U postgres --no-sync >/dev/null
  _ra_as_pg "$_ra_pgbin/pg_ctl" -D "$_ra_pgdir/data" -l "$_ra_pgdir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $_ra_pgport -k $_ra_pgdir -c fsync=off" start >/dev/null
  trap '_ra_as_pg "$_ra_pgbin/pg_ctl" -D "$_ra_pgdir/data" -m fast stop >/dev/null 2>&1 || true' EXIT
  export RESIDENCY_AUDIT_TEST_PG="postgresql://postgres@127.0.0.1:$_ra_pgport/postgres"
  echo "== PostgreSQL on 127.0.0.1:$_ra_pgport for the store tests"
fi
