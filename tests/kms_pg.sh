#!/bin/bash
# kms_pg.sh -- KMS replicas on one PostgreSQL store (issue 7 §1,
# DESIGN.md §4), on a throwaway server from scripts/pg.sh:
#   - `conclave kms` administers the PostgreSQL store (init, users,
#     identities, factory patterns, policies, credentials, ticket keys);
#   - the store's unit checks (test_kms_store) run on a second database;
#   - two conclave-kmsd on the same database: a ticket requested at one
#     resolves at the other, both ways (tests/kmsit);
#   - an administrator's change made while both run (a deny policy, then
#     its removal) is seen by both on the next request;
#   - the audit table refuses UPDATE, DELETE and TRUNCATE (the trigger);
#     a PSK is nowhere in clear in a pg_dump of the database;
#   - kill -9 of one kmsd: the other keeps serving;
#   - a PostgreSQL stop/start: requests meanwhile get a MIKEY Error and a
#     "store failure" log line, /healthz says 503; after the start the
#     next request is served again (the daemon reconnected by itself).
#
# usage: kms_pg.sh <conclave-binary> <build>/tests
# exit 77 (skip) if the binaries were not built, the build has no
# PostgreSQL (CONCLAVE_PG=OFF), or the PostgreSQL server is not installed.
set -u

CONCLAVE=$1
TESTS=$2
KMSD=$(dirname "$TESTS")/conclave-kmsd
KMSIT=$TESTS/kmsit
UNIT=$TESTS/test_kms_store
PGSH=$(cd "$(dirname "$0")/.." && pwd)/scripts/pg.sh
REALM=example.org

for b in "$KMSD" "$KMSIT" "$CONCLAVE"; do
	[ -x "$b" ] || {
		echo "skip: need $b"
		exit 77
	}
done

W=$(mktemp -d /tmp/kmspg.XXXXXX)
PGDIR=
PID1=
PID2=
FAIL=0

cleanup() {
	[ -n "$PID1" ] && kill -9 "$PID1" 2>/dev/null
	[ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null
	[ -n "$PGDIR" ] && "$PGSH" stop "$PGDIR"
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	echo "$*" >>"$W/failures"
	FAIL=1
}
ok() { echo "ok $*"; }

# ---- a throwaway PostgreSQL ---------------------------------------------------
out=$("$PGSH" start 2>"$W/pg.err")
rc=$?
if [ $rc = 77 ]; then
	echo "skip: $(cat "$W/pg.err")"
	exit 77
fi
if [ $rc != 0 ]; then
	cat "$W/pg.err"
	echo "FAIL: scripts/pg.sh could not start PostgreSQL"
	exit 1
fi
eval "$out"
[ -n "${PGDIR:-}" ] && [ -n "${CONNINFO:-}" ] || {
	echo "FAIL: pg.sh printed no CONNINFO"
	exit 1
}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql "$CONNINFO" -c 'CREATE DATABASE kms' -c 'CREATE DATABASE unit' ||
	{
		echo "FAIL: createdb"
		exit 1
	}
DB="${CONNINFO/dbname=postgres/dbname=kms}"
SPEC="postgresql:$DB"
echo "PostgreSQL at $PGDIR: $DB"

kms() {
	"$CONCLAVE" kms --db "$SPEC" --master-key-file "$W/master.key" "$@"
}

# a build without PostgreSQL refuses clearly; nothing more to test
if ! kms init --create-master-key >"$W/init.out" 2>&1; then
	if grep -q "not built with PostgreSQL" "$W/init.out"; then
		cat "$W/init.out"
		echo "skip: this build has no PostgreSQL (CONCLAVE_PG=OFF)"
		exit 77
	fi
	cat "$W/init.out"
	echo "FAIL: kms init on PostgreSQL"
	exit 1
fi
grep -q "schema v3" "$W/init.out" && ok "kms init: $(tail -n 1 "$W/init.out")" ||
	fail "kms init output: $(cat "$W/init.out")"
kms init >/dev/null 2>&1 && fail "a second kms init overwrote the store" ||
	ok "a second kms init is refused"

# ---- the store's unit checks on PostgreSQL ------------------------------------
if [ -x "$UNIT" ]; then
	if CONCLAVE_TEST_PG="${CONNINFO/dbname=postgres/dbname=unit}" \
		"$UNIT" >"$W/unit.out" 2>&1 &&
		grep -q "PostgreSQL part done" "$W/unit.out"; then
		ok "test_kms_store on PostgreSQL ($(grep 'hot path' "$W/unit.out" | tail -n 1))"
	else
		fail "test_kms_store on PostgreSQL"
		tail -n 20 "$W/unit.out"
	fi
fi

# ---- the store, set up the way an operator does -------------------------------
set -e
for u in alice bob carol; do
	kms user add $u --psk-id "$u-psk" --generate >/dev/null
	kms identity add $u "sip:$u@$REALM" >/dev/null
done
for n in 1 2; do
	kms user add conf$n-focus --psk-id "conf$n-psk" --generate \
		--key-supplier >/dev/null
	kms identity add conf$n-focus "sip:factory.conf$n@$REALM" --factory \
		>/dev/null
	kms identity add conf$n-focus "sip:focus*.conf$n@$REALM" >/dev/null
	kms policy allow-conference alice conf$n-focus >/dev/null
done
set +e
[ "$(kms user list | tail -n +2 | wc -l)" = 5 ] && ok "kms user list: 5 users" ||
	fail "kms user list: $(kms user list)"
kms user show conf1-focus | grep -q 'sip:focus\*.conf1@example.org' &&
	ok "kms user show lists the pattern" || fail "kms user show"
[ "$(kms policy list | wc -l)" -ge 2 ] && ok "kms policy list" ||
	fail "kms policy list"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done

export_creds() { # dir url
	mkdir -p "$1"
	for c in alice:sip:alice@$REALM:alice bob:sip:bob@$REALM:bob \
		carol:sip:carol@$REALM:carol \
		conf1-focus:sip:focus17.conf1@$REALM:focus1 \
		conf2-focus:sip:focus17.conf2@$REALM:focus2; do
		u=${c%%:*}
		rest=${c#*:}
		id=${rest%:*}
		kms credential export "$u" --identity "$id" --kms-url "$2" \
			--kms-identity "sip:kms.$REALM" -o "$1/${c##*:}.cred" \
			>/dev/null || fail "credential export $u"
	done
}
export_creds "$W/c1" "http://127.0.0.1:$P1/mikey"
export_creds "$W/c2" "http://127.0.0.1:$P2/mikey"

start_kmsd() { # n port
	"$KMSD" --listen "127.0.0.1:$2" --db "$SPEC" \
		--master-key-file "$W/master.key" \
		--identity "sip:kms.$REALM" >>"$W/kmsd$1.log" 2>&1 &
	eval "PID$1=$!"
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0
		sleep 0.05
	done
	fail "conclave-kmsd $1 did not come up"
	cat "$W/kmsd$1.log"
	exit 1
}
start_kmsd 1 "$P1"
start_kmsd 2 "$P2"
grep -q "postgresql:" "$W/kmsd1.log" && ok "kmsd 1 runs on the PostgreSQL store" ||
	fail "kmsd 1 start line: $(head -n 2 "$W/kmsd1.log")"

# ---- two replicas behave as one KMS --------------------------------------------
"$KMSIT" flow "$W/c1" >"$W/flow1.out" 2>&1 && ok "kmsit flow at kmsd 1" ||
	{ fail "kmsit flow at kmsd 1"; tail -n 20 "$W/flow1.out"; }
"$KMSIT" flow "$W/c2" >"$W/flow2.out" 2>&1 && ok "kmsit flow at kmsd 2" ||
	{ fail "kmsit flow at kmsd 2"; tail -n 20 "$W/flow2.out"; }
"$KMSIT" request "$W/c1" "$W/t12.bin" >/dev/null &&
	"$KMSIT" redeem "$W/c2" "$W/t12.bin" >/dev/null &&
	ok "a ticket requested at kmsd 1 resolves at kmsd 2" ||
	fail "ticket 1 -> 2"
"$KMSIT" request "$W/c2" "$W/t21.bin" >/dev/null &&
	"$KMSIT" redeem "$W/c1" "$W/t21.bin" >/dev/null &&
	ok "a ticket requested at kmsd 2 resolves at kmsd 1" ||
	fail "ticket 2 -> 1"

# ---- an administrator's change while both run ----------------------------------
kms policy deny alice bob >/dev/null || fail "policy deny"
for n in 1 2; do
	if "$KMSIT" request "$W/c$n" "$W/denied$n.bin" >"$W/denied$n.out" 2>&1; then
		fail "kmsd $n issued a ticket the new deny policy forbids"
	else
		ok "kmsd $n refuses alice->bob at once: $(tail -n 1 "$W/denied$n.out")"
	fi
done
kms policy del deny alice bob >/dev/null || fail "policy del"
for n in 1 2; do
	"$KMSIT" request "$W/c$n" "$W/again$n.bin" >/dev/null &&
		ok "kmsd $n issues again once the rule is gone" ||
		fail "kmsd $n still refuses after the rule was removed"
done

# ---- the audit log and secrets at rest ------------------------------------------
n=$(command psql -X -At "$DB" -c 'SELECT count(*) FROM audit')
[ "${n:-0}" -gt 0 ] && ok "audit: $n records from both replicas" ||
	fail "no audit records"
for sql in "UPDATE audit SET outcome = 'x'" "DELETE FROM audit" \
	"TRUNCATE audit"; do
	if psql "$DB" -c "$sql" >"$W/audit.out" 2>&1; then
		fail "the audit table allowed: $sql"
	elif grep -q "append-only" "$W/audit.out"; then
		ok "audit refuses '$sql': $(grep -o 'audit log is append-only' "$W/audit.out")"
	else
		fail "the audit table refused '$sql' oddly: $(cat "$W/audit.out")"
	fi
done
[ "$(command psql -X -At "$DB" -c 'SELECT count(*) FROM audit')" -ge "$n" ] ||
	fail "audit records went missing"
pg_dump "$DB" >"$W/dump.sql"
leaked=0
for c in "$W"/c1/*.cred; do
	psk=$(sed -n 's/^psk = //p' "$c")
	[ -n "$psk" ] || continue
	grep -qi "$psk" "$W/dump.sql" && leaked=1
done
[ -s "$W/dump.sql" ] && [ $leaked = 0 ] &&
	ok "no PSK in clear in pg_dump ($(wc -c <"$W/dump.sql") bytes)" ||
	fail "a PSK is in clear in the database (or pg_dump failed)"

# ---- kill -9 one replica: the other keeps serving --------------------------------
kill -9 "$PID1"
wait "$PID1" 2>/dev/null
PID1=
"$KMSIT" request "$W/c2" "$W/after-kill.bin" >/dev/null &&
	"$KMSIT" redeem "$W/c2" "$W/t12.bin" >/dev/null &&
	ok "kmsd 1 killed (-9): kmsd 2 issues and resolves" ||
	fail "kmsd 2 after kmsd 1 died"
start_kmsd 1 "$P1"
"$KMSIT" redeem "$W/c1" "$W/after-kill.bin" >/dev/null &&
	ok "kmsd 1 restarted: resolves a ticket kmsd 2 issued meanwhile" ||
	fail "restarted kmsd 1"

# ---- a PostgreSQL restart ------------------------------------------------------------
"$PGSH" halt "$PGDIR" || fail "pg.sh halt"
if "$KMSIT" request "$W/c2" "$W/down.bin" >"$W/down.out" 2>&1; then
	fail "a ticket was issued while PostgreSQL was down"
else
	ok "PostgreSQL down: request refused: $(tail -n 1 "$W/down.out")"
fi
grep -q "store failure: " "$W/kmsd2.log" &&
	ok "kmsd 2 logs: $(grep 'store failure: ' "$W/kmsd2.log" | tail -n 1 | cut -c1-160)" ||
	fail "no store failure line in kmsd 2's log"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/healthz")
[ "$code" = 503 ] && ok "PostgreSQL down: kmsd 1 /healthz 503" ||
	fail "PostgreSQL down: /healthz $code"
"$PGSH" resume "$PGDIR" || fail "pg.sh resume"
for n in 1 2; do
	"$KMSIT" request "$W/c$n" "$W/up$n.bin" >"$W/up$n.out" 2>&1 &&
		ok "PostgreSQL back: kmsd $n serves the next request" ||
		fail "kmsd $n after PostgreSQL came back: $(tail -n 1 "$W/up$n.out")"
done
"$KMSIT" redeem "$W/c1" "$W/up2.bin" >/dev/null &&
	ok "after the restart: a ticket from kmsd 2 resolves at kmsd 1" ||
	fail "cross resolve after the PostgreSQL restart"
grep -Eiq "psk = |[0-9a-f]{64}" "$W/kmsd1.log" "$W/kmsd2.log" &&
	fail "a key-like value in a kmsd log" || ok "no key-like value in the logs"

for p in "$PID1" "$PID2"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
PID1=
PID2=
if [ "$FAIL" = 0 ]; then
	echo "all KMS-on-PostgreSQL checks passed"
	exit 0
fi
for n in 1 2; do
	echo "--- kmsd$n.log"
	tail -n 30 "$W/kmsd$n.log"
done
echo "--- failed:"
cat "$W/failures"
exit 1
