#!/bin/bash
# confd_basic.sh -- conclave-confd against the real conclave-kmsd on
# loopback (issue 5, first slice): a test UA (tests/confua) creates a
# conference (Alice, UDP), Bob joins over TCP and holds the same group
# key (rekeys with rekey-on join,leave: Alice answers them), Mallory (not allowed) gets 403 without key material, a tampered
# TRANSFER_INIT gets 488 + Warning 306, a replayed INVITE body is
# refused, Bob leaves with BYE, an empty conference ends after its idle
# time, and SIGTERM sends BYE to Alice and exits 0.
#
# usage: confd_basic.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing.
set -u

CONCLAVE=$1
TESTS=$2
UA=$TESTS/confua
ENV_TAG=confdit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD" "$UA"

# ---- the KMS store and the daemons ---------------------------------------------
env_store alice bob carol mallory
KPORT=$(port)
SPORT=$(port)
URL=http://127.0.0.1:$KPORT/mikey
env_creds "$KPORT" alice bob carol mallory
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 1" "log_level debug" || exit 1
"$CONFD" --help | grep -q 'usage: conclave-confd' && ok "--help" ||
	fail "--help"

ua() { # name args...
	local n=$1
	shift
	timeout 20 "$UA" --cred "$W/creds/$n.cred" --server "127.0.0.1:$SPORT" \
		--skew $SKEW "$@"
}
has() { grep -qx -- "$2" "$1"; }

# ---- create (Alice, UDP): stays until the focus hangs up -------------------
ua alice --allow "sip:bob@$REALM,sip:carol@$REALM" --wait-bye \
	--focus-out "$W/focus" invite "$FACTORY" >"$W/alice.out" 2>&1 &
APID=$!
env_bg $APID
for _ in $(seq 1 100); do
	[ -s "$W/focus" ] && break
	sleep 0.05
done
FOCUS=$(cat "$W/focus" 2>/dev/null)
if has "$W/alice.out" "status 200" && has "$W/alice.out" "isfocus yes" &&
	has "$W/alice.out" "transfer-resp ok" &&
	grep -q '^group-key mki 0x80000001 len 16/14 ' "$W/alice.out" &&
	[ "$FOCUS" = "sip:focus1.conf1@$REALM" ]; then
	ok "create: 200 OK, Contact ;isfocus, $FOCUS, group key MKI 0x80000001"
else
	fail "create"
	cat "$W/alice.out"
fi

# ---- join (Bob, TCP): same group key, then BYE ------------------------------
ua bob --tcp --bye-after 300 invite "$FOCUS" >"$W/bob.out" 2>&1
if has "$W/bob.out" "status 200" && has "$W/bob.out" "transfer-resp ok" &&
	grep -qxF "$(grep -m1 '^group-key' "$W/bob.out")" "$W/alice.out"; then
	ok "join over TCP: Bob opens the TRANSFER_RESP, same group key as Alice"
else
	fail "join"
	cat "$W/bob.out"
fi
has "$W/bob.out" "bye 200" && ok "leave: BYE -> 200" || fail "leave"
sleep 0.2
grep -q "conference $FOCUS: sip:bob@$REALM left (BYE)" "$W/confd.log" &&
	ok "confd logged Bob's leave" || fail "no leave log line"

# ---- not allowed (Mallory): 403, no key-mgmt --------------------------------
ua mallory invite "$FOCUS" >"$W/mallory.out" 2>&1
if has "$W/mallory.out" "status 403" && has "$W/mallory.out" "key-mgmt no"; then
	ok "not allowed: 403 without key material"
else
	fail "mallory"
	cat "$W/mallory.out"
fi
grep -q "conference $FOCUS: sip:mallory@$REALM refused: not allowed" \
	"$W/confd.log" && ok "confd logged Mallory's refusal" ||
	fail "no refusal log line"

# ---- tampered TRANSFER_INIT (Carol, allowed): 488 + Warning 306 -------------
ua carol --tamper invite "$FOCUS" >"$W/carol.out" 2>&1
if has "$W/carol.out" "status 488" &&
	grep -q '^warning 306 ' "$W/carol.out" &&
	has "$W/carol.out" "key-mgmt no"; then
	ok "tampered TRANSFER_INIT: 488 + Warning 306"
else
	fail "tamper"
	cat "$W/carol.out"
fi
grep -q "conference $FOCUS: resolve refused for .*bad MAC\|MAC" "$W/confd.log" &&
	ok "confd logged the MAC failure" || fail "no MAC log line"

# ---- replayed INVITE body (Carol): first 200, the copy 488 ------------------
ua carol --replay invite "$FOCUS" >"$W/replay.out" 2>&1
if [ "$(grep -c '^status' "$W/replay.out")" = 2 ] &&
	[ "$(grep '^status' "$W/replay.out" | head -1)" = "status 200" ] &&
	[ "$(grep '^status' "$W/replay.out" | tail -1)" = "status 488" ]; then
	ok "replayed INVITE body refused (488)"
else
	fail "replay"
	cat "$W/replay.out"
fi
grep -qi "replay" "$W/confd.log" && ok "confd logged the replay" ||
	fail "no replay log line"

# ---- an unknown conference: 404 ---------------------------------------------
ua bob invite "sip:focus99.conf1@$REALM" >"$W/nf.out" 2>&1
has "$W/nf.out" "status 404" && ok "unknown focus: 404" || {
	fail "unknown focus"
	cat "$W/nf.out"
}

# ---- idle end: Alice creates a second conference and leaves it -------------
ua alice --bye-after 100 invite "$FACTORY" >"$W/c2.out" 2>&1
sleep 1.6
if has "$W/c2.out" "status 200" && has "$W/c2.out" "bye 200" &&
	grep -q "conference sip:focus2.conf1@$REALM ended" "$W/confd.log"; then
	ok "empty conference ended after idle_timeout"
else
	fail "idle end"
	cat "$W/c2.out"
fi

# ---- SIGTERM: BYE to Alice, exit 0 --------------------------------------------
kill -TERM "$CPID"
rc=0
wait "$CPID" || rc=$?
CPID=
[ $rc = 0 ] && ok "SIGTERM: exit 0" || fail "confd exit $rc"
wait "$APID"
APID=
has "$W/alice.out" "bye received" && ok "SIGTERM: Alice got BYE" ||
	fail "Alice got no BYE"

# ---- logs: never a key ----------------------------------------------------------
if grep -Eqi 'psk *=|[0-9a-f]{32}' "$W/confd.log"; then
	fail "confd log holds something key-like"
else
	ok "no key material in confd's log"
fi

kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
KPID=
if [ "$FAIL" = 0 ]; then
	echo "all confd checks passed"
	exit 0
fi
echo "--- confd.log"
tail -n 60 "$W/confd.log"
exit 1
