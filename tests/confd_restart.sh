#!/bin/bash
# confd_restart.sh -- issue 5 §4 "Focus restarted mid-conference: members
# see a clean failure and can rejoin. Nothing hangs." Alice creates a
# conference (UDP), Bob joins (TCP); they hear each other. confd is killed
# with SIGKILL: both participants notice through their keepalive INFO
# (UDP: no answer; TCP: connection refused) within a few seconds, say
# "focus lost", exit 3 and report "ended": "focus-lost". Carol's join
# while confd is down fails by --timeout (exit 1) within seconds. confd
# restarts on the same port; Alice creates again, Bob joins, and both hear
# each other with every packet decrypted.
#
# usage: confd_restart.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing or confd has no media plane.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=restart
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
"$CONCLAVE" ua --help 2>&1 | grep -q -- --keepalive || {
	echo "skip: conclave ua has no --keepalive"
	exit 77
}

env_store alice bob carol
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob carol
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 5" "log_level debug" || exit 1

# ua NAME TAG args...: a participant in the background; $UPID
ua() {
	local n=$1 t=$2
	shift 2
	timeout 30 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --keepalive 1 \
		--timeout 5 --report "$W/$n-$t.json" "$@" \
		</dev/null >"$W/$n-$t.out" 2>&1 &
	UPID=$!
	env_bg $UPID
}
# waitexit PID TENTHS: its exit status, or 124 if it is still running
waitexit() {
	local _
	for _ in $(seq 1 "$2"); do
		kill -0 "$1" 2>/dev/null || {
			wait "$1"
			return $?
		}
		sleep 0.1
	done
	return 124
}
ms() { date +%s%3N; }
# hear RUN A B: A's report (run RUN) holds B's tone, all decrypted
hear() {
	python3 - "$W" "$@" <<'EOP'
import json, sys
w, run, a, b = sys.argv[1:5]
ra = json.load(open(f"{w}/{a}-{run}.json"))
rb = json.load(open(f"{w}/{b}-{run}.json"))
hz = rb["tone_hz"]
got = any(abs(t["hz"] - hz) < 1 for s in ra["sources"] for t in s["tones"])
rx = ra["received"]
print(f"{a} heard {b} ({hz:.0f} Hz): {got}, decrypted {rx['decrypted']},"
      f" failed {rx['failed']}, ended {ra['ended']}")
sys.exit(0 if got and rx["decrypted"] > 0 and rx["failed"] == 0 else 1)
EOP
}
ended() { # RUN NAME: the report's ended and ended_reason
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]));
print(r["ended"], "|", r["ended_reason"])' "$W/$2-$1.json" 2>/dev/null
}

# ---- 1: Alice creates (UDP), Bob joins (TCP), both speak ----------------------
ua alice 1 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
APID=$UPID
waitfor "$W/alice-1.out" "joined" 80 || {
	fail "Alice did not create the conference"
	cat "$W/alice-1.out"
	exit 1
}
if grep -q "media inactive" "$W/alice-1.out"; then
	echo "skip: conclave-confd answers without a media plane"
	exit 77
fi
FOCUS=$(cat "$W/focus")
ok "created $FOCUS"
ua bob 1 --tcp join "$FOCUS"
BPID=$UPID
waitfor "$W/bob-1.out" "joined" 80 || fail "Bob did not join"
sleep 2.5
for n in alice bob; do
	grep -q "keepalive: focus answers INFO with" "$W/$n-1.out" &&
		ok "$n: $(grep -o 'focus answers INFO with [0-9]*' "$W/$n-1.out")" ||
		fail "$n: no answer to the keepalive INFO"
done

# ---- kill -9 confd: both notice, exit 3, report focus-lost --------------------
T0=$(ms)
kill -9 "$CPID"
wait "$CPID" 2>/dev/null
CPID=
for p in alice:$APID bob:$BPID; do
	n=${p%%:*}
	waitexit "${p#*:}" 60
	rc=$?
	dt=$(($(ms) - T0))
	if [ $rc = 3 ] && grep -q "focus lost: " "$W/$n-1.out"; then
		ok "$n: focus lost after ${dt} ms, exit 3 ($(grep -o 'focus lost: .*' "$W/$n-1.out"))"
	else
		fail "$n: rc=$rc after ${dt} ms (want 3 and 'focus lost')"
		tail -5 "$W/$n-1.out"
	fi
	e=$(ended 1 "$n")
	case $e in
	focus-lost*) ok "$n report: ended $e" ;;
	*) fail "$n report: ended '$e'" ;;
	esac
	[ "$(grep -c 'focus lost: ' "$W/$n-1.out")" = 1 ] ||
		fail "$n: 'focus lost' said more than once"
	grep -q "bye " "$W/$n-1.out" && fail "$n sent BYE to a dead focus"
done
APID= BPID=
hear 1 alice bob && ok "before the crash: Alice heard Bob" ||
	fail "before the crash: Alice did not hear Bob"
hear 1 bob alice && ok "before the crash: Bob heard Alice" ||
	fail "before the crash: Bob did not hear Alice"

# ---- a join while confd is down fails by --timeout -----------------------------
T0=$(ms)
ua carol 1 --timeout 3 join "$FOCUS"
waitexit "$UPID" 100
rc=$?
dt=$(($(ms) - T0))
if [ $rc = 1 ] && grep -q "call timed out" "$W/carol-1.out" && [ $dt -lt 8000 ]; then
	ok "join while confd is down: exit 1 after ${dt} ms ($(grep -o 'call timed out: .*' "$W/carol-1.out"))"
else
	fail "join while confd is down: rc=$rc after ${dt} ms"
	cat "$W/carol-1.out"
fi
grep -q "joined" "$W/carol-1.out" && fail "Carol joined a dead focus"
case $(ended 1 carol) in
timeout*) ok "Carol's report: ended timeout" ;;
*) fail "Carol's report: ended '$(ended 1 carol)'" ;;
esac

# ---- confd restarts on the same port; create and join again --------------------
mv "$W/confd.log" "$W/confd-1.log"
env_confd "$SPORT" "idle_timeout 5" "log_level debug" || exit 1
ok "confd restarted on port $SPORT"
rm -f "$W/focus"
ua alice 2 --duration 7 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM"
APID=$UPID
waitfor "$W/alice-2.out" "joined" 80 || fail "Alice did not create again"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob 2 --tcp --duration 4 join "$FOCUS"
BPID=$UPID
for p in bob:$BPID alice:$APID; do
	waitexit "${p#*:}" 150
	rc=$?
	[ $rc = 0 ] && ok "${p%%:*} (again): exit 0" ||
		fail "${p%%:*} (again): rc=$rc"
done
APID= BPID=
hear 2 alice bob && ok "after the restart: Alice heard Bob" ||
	fail "after the restart: Alice did not hear Bob"
hear 2 bob alice && ok "after the restart: Bob heard Alice" ||
	fail "after the restart: Bob did not hear Alice"
[ "$(ended 2 bob)" = "left | None" ] || fail "Bob (again) ended '$(ended 2 bob)'"

# ---- a quick restart between two keepalives: the new confd answers 481 ---------
ua alice 3 --keepalive 2 create --factory "$FACTORY"
APID=$UPID
waitfor "$W/alice-3.out" "keepalive: focus answers" 60 ||
	fail "Alice (3) got no keepalive answer"
T0=$(ms)
kill -9 "$CPID"
wait "$CPID" 2>/dev/null
mv "$W/confd.log" "$W/confd-2.log"
env_confd "$SPORT" "idle_timeout 5" "log_level debug" || exit 1
waitexit "$APID" 60
rc=$?
dt=$(($(ms) - T0))
APID=
if [ $rc = 3 ] && grep -q "focus lost: keepalive INFO answered 481" \
	"$W/alice-3.out"; then
	ok "restart between keepalives: 481 after ${dt} ms, exit 3"
else
	fail "restart between keepalives: rc=$rc after ${dt} ms"
	tail -5 "$W/alice-3.out"
fi

if cat "$W"/*.out | grep -Eqi '[0-9a-f]{32}'; then
	fail "participant output holds something key-like"
fi
if [ "$FAIL" != 0 ]; then
	for f in "$W"/*.out; do
		echo "--- $f"
		tail -n 15 "$f"
	done
	echo "--- confd.log (tail)"
	tail -20 "$W/confd.log"
	exit 1
fi
echo "all ok"
