#!/bin/bash
# confd_kmsdown.sh -- issue 5 §4 "KMS unreachable during a join": the
# participants reach the KMS (replica A) for their tickets, but the replica
# confd resolves at (B, same store) is down when Bob joins: Bob gets a clear
# SIP error (503) and no key material, confd logs why and keeps serving;
# once B is back, Bob's retry succeeds.
#
# usage: confd_kmsdown.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=kmsdown
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
"$CONCLAVE" ua --help >/dev/null 2>&1 || {
	echo "skip: conclave has no ua command"
	exit 77
}

env_store alice bob
PA=$(port)
PB=$(port)
SPORT=$(port)
# participants get their tickets from replica A; confd resolves at B
env_creds "$PA" alice bob
kms credential export conf1-focus --identity "$FACTORY" \
	--kms-url "http://127.0.0.1:$PB/mikey" --kms-identity "sip:kms.$REALM" \
	-o "$W/creds/confd.cred" --force >/dev/null || fail "export conf1-focus"
env_kmsd "$PA" "$W/kmsd-a.log" || exit 1
env_kmsd "$PB" "$W/kmsd-b.log" || exit 1
KB=$KPID
env_confd "$SPORT" "idle_timeout 5" "log_level debug" || exit 1

# Alice creates while both replicas are up.
timeout 40 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 25 \
	--focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM" </dev/null >"$W/alice.out" 2>&1 &
APID=$!
env_bg $APID
waitfor "$W/alice.out" "joined" 80 || {
	fail "Alice did not create the conference"
	cat "$W/alice.out"
	exit 1
}
FOCUS=$(cat "$W/focus")
ok "created $FOCUS"

# The replica confd uses goes away; Bob still gets his ticket from A.
kill -TERM "$KB"
wait "$KB" 2>/dev/null
KB=
timeout 30 "$CONCLAVE" ua --cred "$W/creds/bob.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 1 \
	join "$FOCUS" </dev/null >"$W/bob1.out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q "status 503" "$W/bob1.out"; then
	ok "join while confd's KMS is down: 503 (exit $rc)"
else
	fail "join while the KMS is down: rc=$rc"
	cat "$W/bob1.out"
fi

grep -q "KMS unreachable" "$W/confd.log" &&
	ok "confd logged the KMS failure" || fail "no KMS failure in confd's log"
grep -q "install mki" "$W/bob1.out" && fail "Bob installed a key" ||
	ok "no key material reached Bob"
kill -0 "$CPID" 2>/dev/null && ok "confd still running" || fail "confd died"

# The replica returns: the retry succeeds.
env_kmsd "$PB" "$W/kmsd-b.log" || fail "replica B did not come back"
timeout 30 "$CONCLAVE" ua --cred "$W/creds/bob.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 2 \
	join "$FOCUS" </dev/null >"$W/bob2.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "joined" "$W/bob2.out"; then
	ok "retry after the KMS returned: joined"
else
	fail "retry: rc=$rc"
	cat "$W/bob2.out"
fi
kill -TERM "$APID" 2>/dev/null
wait "$APID" 2>/dev/null
APID=
if [ "$FAIL" != 0 ]; then
	echo "--- confd.log (tail)"
	tail -20 "$W/confd.log"
	exit 1
fi
echo "all ok"
