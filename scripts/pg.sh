#!/usr/bin/env bash
# pg.sh -- a throwaway local PostgreSQL (Debian's postgresql package) for
# the tests and the demo: initdb into a temporary directory, listening only
# on a Unix socket in that directory (no TCP), trust authentication for
# the local socket, fsync off (nothing here outlives the run).
#
#   scripts/pg.sh start [DIR]   make DIR (default: a new /tmp dir) and start;
#                               prints PGDIR=... and CONNINFO=... (eval-able)
#   scripts/pg.sh stop DIR      stop the server and remove DIR
#   scripts/pg.sh halt DIR      stop the server, keep DIR (for restart tests)
#   scripts/pg.sh resume DIR    start a halted server again
#   scripts/pg.sh conninfo DIR  print the CONNINFO of DIR
#
# PostgreSQL refuses to run as root: as root the server runs as the
# `postgres` system user (made by the package), or else as a system user
# `conclave-pg` this script creates. Exit 77 if PostgreSQL is not installed
# (scripts/deps.sh installs it).
set -euo pipefail

die() {
	echo "pg.sh: $*" >&2
	exit "${2:-1}"
}

bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
	return 1
}

BIN=$(bindir) || die "PostgreSQL server not installed (apt-get install postgresql)" 77

# The user the server runs as, and how to run a command as that user.
run_as=()
pguser=$(id -un)
if [ "$(id -u)" = 0 ]; then
	if id postgres >/dev/null 2>&1; then
		pguser=postgres
	else
		pguser=conclave-pg
		id "$pguser" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser" ||
			die "cannot create system user $pguser"
	fi
	run_as=(runuser -u "$pguser" --)
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

conninfo() { # DIR
	echo "host=$1 port=$(cat "$1/port") dbname=postgres user=$(cat "$1/user")"
}

pgctl_start() { # DIR
	"${run_as[@]}" "$BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 30 \
		-o "-k $1 -p $(cat "$1/port") -c listen_addresses=" start >/dev/null ||
		{ cat "$1/server.log" >&2; die "server did not start (log above)"; }
}

cmd=${1:-}
case "$cmd" in
start)
	DIR=${2:-$(mktemp -d /tmp/conclave-pg.XXXXXX)}
	mkdir -p "$DIR"
	chmod 700 "$DIR"
	[ "$(id -u)" = 0 ] && chown "$pguser" "$DIR"
	free_port >"$DIR/port"
	echo "$pguser" >"$DIR/user"
	"${run_as[@]}" "$BIN/initdb" -D "$DIR/data" -U "$pguser" --auth=trust \
		-E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; die "initdb failed (log above)"; }
	cat >>"$DIR/data/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
CONF
	pgctl_start "$DIR"
	echo "PGDIR=$DIR"
	echo "CONNINFO='$(conninfo "$DIR")'"
	;;
stop | halt)
	DIR=${2:?usage: pg.sh $cmd DIR}
	[ -d "$DIR/data" ] || die "$DIR is not a pg.sh directory"
	"${run_as[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	if [ "$cmd" = stop ]; then
		case "$DIR" in /tmp/*) rm -rf "$DIR" ;; *) echo "pg.sh: left $DIR" >&2 ;; esac
	fi
	;;
resume)
	DIR=${2:?usage: pg.sh resume DIR}
	pgctl_start "$DIR"
	;;
conninfo)
	conninfo "${2:?usage: pg.sh conninfo DIR}"
	;;
*)
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
