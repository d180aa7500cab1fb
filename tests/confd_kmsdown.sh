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
BUILD=$(dirname "$TESTS")
KMSD=$BUILD/conclave-kmsd
CONFD=$BUILD/conclave-confd
REALM=example.org
FACTORY=sip:factory.conf1@$REALM
SKEW=30

for b in "$CONCLAVE" "$KMSD" "$CONFD"; do
	if [ ! -x "$b" ]; then
		echo "skip: need $b"
		exit 77
	fi
done
"$CONCLAVE" ua --help >/dev/null 2>&1 || {
	echo "skip: conclave has no ua command"
	exit 77
}

W=$(mktemp -d /tmp/kmsdown.XXXXXX)
APID= BPID= KA= KB= CPID=
FAIL=0
cleanup() {
	for p in $APID $BPID $CPID $KB $KA; do kill -9 "$p" 2>/dev/null; done
	if [ "$FAIL" = 0 ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	FAIL=1
}
ok() { echo "ok $*"; }
port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
kms() {
	"$CONCLAVE" kms --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" "$@"
}
waitfor() { # file pattern tenths
	for _ in $(seq 1 "$3"); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
kmsd() { # port log: a KMS replica on the shared store
	"$KMSD" --listen "127.0.0.1:$1" --db "sqlite:$W/kms.db" \
		--master-key-file "$W/master.key" --identity "sip:kms.$REALM" \
		--skew $SKEW >>"$2" 2>&1 &
}
healthy() {
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
		sleep 0.05
	done
	return 1
}

set -e
kms init --create-master-key >/dev/null
for u in alice bob; do
	kms user add $u --psk-id "$u-psk" --generate >/dev/null
	kms identity add $u "sip:$u@$REALM" >/dev/null
done
kms user add conf1-focus --psk-id conf1-psk --generate --key-supplier \
	>/dev/null
kms identity add conf1-focus "$FACTORY" --factory >/dev/null
kms identity add conf1-focus "sip:focus*.conf1@$REALM" >/dev/null
kms policy allow-conference alice conf1-focus >/dev/null
set +e

PA=$(port)
PB=$(port)
SPORT=$(port)
mkdir -p "$W/creds"
for u in alice bob; do
	kms credential export $u --identity "sip:$u@$REALM" \
		--kms-url "http://127.0.0.1:$PA/mikey" \
		--kms-identity "sip:kms.$REALM" -o "$W/creds/$u.cred" \
		>/dev/null || fail "export $u"
done
kms credential export conf1-focus --identity "$FACTORY" \
	--kms-url "http://127.0.0.1:$PB/mikey" --kms-identity "sip:kms.$REALM" \
	-o "$W/creds/confd.cred" >/dev/null || fail "export conf1-focus"

kmsd "$PA" "$W/kmsd-a.log"
KA=$!
kmsd "$PB" "$W/kmsd-b.log"
KB=$!
healthy "$PA" && healthy "$PB" || {
	fail "KMS replicas did not come up"
	exit 1
}
cat >"$W/confd.conf" <<EOC
udp 127.0.0.1:$SPORT
tcp 127.0.0.1:$SPORT
factory $FACTORY
credential $W/creds/confd.cred
skew $SKEW
idle_timeout 5
log_level debug
EOC
"$CONFD" --config "$W/confd.conf" >"$W/confd.log" 2>&1 &
CPID=$!
waitfor "$W/confd.log" "listening sip TCP" 100 || {
	fail "confd did not come up"
	exit 1
}

# Alice creates while both replicas are up.
timeout 40 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 25 \
	--focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM" </dev/null >"$W/alice.out" 2>&1 &
APID=$!
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
kmsd "$PB" "$W/kmsd-b.log"
KB=$!
healthy "$PB" || fail "replica B did not come back"
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
