#!/bin/bash
# confd_rekey.sh -- rekeying by re-INVITE and the switching media plane
# of conclave-confd, against the real conclave-kmsd on loopback (issue 5):
# Alice creates, Bob and Carol join, Alice speaks (SRTP through the
# switch; Bob decrypts her packets), Dave joins -> a CSB update reaches
# every member, Carol leaves -> another rekey: Alice, Bob and Dave end on
# the conference's newest epoch, Carol never gets it.
#
# usage: confd_rekey.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary is missing.
set -u

CONCLAVE=$1
TESTS=$2
BUILD=$(dirname "$TESTS")
KMSD=$BUILD/conclave-kmsd
CONFD=$BUILD/conclave-confd
UA=$TESTS/confua
REALM=example.org
FACTORY=sip:factory.conf1@$REALM
SKEW=30

for b in "$CONCLAVE" "$KMSD" "$CONFD" "$UA"; do
	if [ ! -x "$b" ]; then
		echo "skip: need $b"
		exit 77
	fi
done

W=$(mktemp -d /tmp/confdrk.XXXXXX)
KPID= CPID= APID= BPID= DPID=
FAIL=0

cleanup() {
	for p in $APID $BPID $DPID $CPID $KPID; do kill -9 "$p" 2>/dev/null; done
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

# ---- the KMS store ---------------------------------------------------------
set -e
kms init --create-master-key >/dev/null
for u in alice bob carol dave; do
	kms user add $u --psk-id "$u-psk" --generate >/dev/null
	kms identity add $u "sip:$u@$REALM" >/dev/null
done
kms user add conf1-focus --psk-id conf1-psk --generate --key-supplier \
	>/dev/null
kms identity add conf1-focus "$FACTORY" --factory >/dev/null
kms identity add conf1-focus "sip:focus*.conf1@$REALM" >/dev/null
kms policy allow-conference alice conf1-focus >/dev/null
set +e

KPORT=$(port)
SPORT=$(port)
URL=http://127.0.0.1:$KPORT/mikey
mkdir -p "$W/creds"
for u in alice bob carol dave; do
	kms credential export $u --identity "sip:$u@$REALM" --kms-url "$URL" \
		--kms-identity "sip:kms.$REALM" -o "$W/creds/$u.cred" >/dev/null ||
		fail "export $u"
done
kms credential export conf1-focus --identity "$FACTORY" --kms-url "$URL" \
	--kms-identity "sip:kms.$REALM" -o "$W/creds/confd.cred" >/dev/null ||
	fail "export conf1-focus"

# ---- the daemons -------------------------------------------------------------
"$KMSD" --listen "127.0.0.1:$KPORT" --db "sqlite:$W/kms.db" \
	--master-key-file "$W/master.key" --identity "sip:kms.$REALM" \
	--skew $SKEW >"$W/kmsd.log" 2>&1 &
KPID=$!
cat >"$W/confd.conf" <<EOC
udp 127.0.0.1:$SPORT
tcp 127.0.0.1:$SPORT
factory $FACTORY
credential $W/creds/confd.cred
skew $SKEW
idle_timeout 5
log_level debug
policy rekey-on=join,leave
policy min-rekey-interval=200
policy grace=1s
policy ack-deadline=5s
EOC
"$CONFD" --config "$W/confd.conf" >"$W/confd.log" 2>&1 &
CPID=$!
up=0
for _ in $(seq 1 100); do
	if curl -sf "http://127.0.0.1:$KPORT/healthz" >/dev/null &&
		grep -q "listening sip TCP" "$W/confd.log"; then
		up=1
		break
	fi
	sleep 0.05
done
if [ $up = 0 ]; then
	fail "daemons did not come up"
	cat "$W/kmsd.log" "$W/confd.log"
	exit 1
fi
"$CONFD" --help | grep -q 'usage: conclave-confd' && ok "--help" ||
	fail "--help"

ua() { # name args...
	local n=$1
	shift
	timeout 30 "$UA" --cred "$W/creds/$n.cred" --server "127.0.0.1:$SPORT" \
		--skew $SKEW "$@"
}
has() { grep -qx -- "$2" "$1"; }


ALLOW="sip:bob@$REALM,sip:carol@$REALM,sip:dave@$REALM"
# ---- Alice creates and speaks for 7 s ------------------------------------------
ua alice --allow "$ALLOW" --rtp --send-ms 7000 --wait-bye --guard 25000 \
	--focus-out "$W/focus" invite "$FACTORY" >"$W/alice.out" 2>&1 &
APID=$!
for _ in $(seq 1 100); do
	[ -s "$W/focus" ] && break
	sleep 0.05
done
FOCUS=$(cat "$W/focus" 2>/dev/null)
[ -n "$FOCUS" ] && ok "created $FOCUS" || fail "create"
sleep 0.3
ua bob --rtp --wait-bye --guard 25000 invite "$FOCUS" >"$W/bob.out" 2>&1 &
BPID=$!
sleep 0.5
ua carol --rtp --bye-after 2500 --guard 25000 invite "$FOCUS" \
	>"$W/carol.out" 2>&1 &
CAROL=$!
sleep 1
# ---- Dave joins: a rekey reaches every member ---------------------------------
ua dave --rtp --wait-bye --guard 25000 invite "$FOCUS" >"$W/dave.out" 2>&1 &
DPID=$!
sleep 1
E_DAVE=$(grep -o 'epoch [0-9]* (MKI' "$W/confd.log" | tail -1 | awk '{print $2}')
wait "$CAROL"
sleep 2.5
E_FINAL=$(grep -o 'epoch [0-9]* (MKI' "$W/confd.log" | tail -1 | awk '{print $2}')
# ---- the end: SIGTERM, every member gets BYE ----------------------------------
kill -TERM "$CPID"
wait "$CPID"
CPID=
wait "$APID" "$BPID" "$DPID"
APID= BPID= DPID=

mki() { printf '0x%08x' $((0x80000000 | $1)); }
last_mki() { grep '^group-key mki' "$1" | tail -1 | awk '{print $3}'; }
echo "epochs: after Dave's join $E_DAVE, final $E_FINAL"
[ -n "$E_FINAL" ] && [ "$E_FINAL" -gt "${E_DAVE:-0}" ] &&
	ok "Carol's leave made a new epoch ($E_FINAL > $E_DAVE)" ||
	fail "no rekey after Carol left"
for u in alice bob dave; do
	has "$W/$u.out" "rekey ok" || fail "$u answered no rekey"
	if [ "$(last_mki "$W/$u.out")" = "$(mki "$E_FINAL")" ]; then
		ok "$u ends on epoch $E_FINAL"
	else
		fail "$u ends on $(last_mki "$W/$u.out"), not $(mki "$E_FINAL")"
		cat "$W/$u.out"
	fi
done
if has "$W/carol.out" "rekey ok" &&
	grep -q "^group-key mki $(mki "$E_DAVE") " "$W/carol.out"; then
	ok "Carol got the rekey of Dave's join (epoch $E_DAVE)"
else
	fail "Carol missed the rekey of Dave's join"
	cat "$W/carol.out"
fi
if grep -q "^group-key mki $(mki "$E_FINAL") " "$W/carol.out"; then
	fail "Carol holds the epoch made after she left"
else
	ok "Carol does not get epoch $E_FINAL"
fi
grep -q "sip:dave@$REALM acknowledged epoch $E_DAVE" "$W/confd.log" &&
	ok "Dave acknowledged epoch $E_DAVE" || fail "no ack from Dave"
grep -q "removed: no ack\|NO_ACK\|rekey epoch [0-9]* refused" "$W/confd.log" &&
	fail "a member failed a rekey" || ok "no member failed a rekey"
# ---- media: Alice's packets reach Bob through the switch and decrypt --------
AS=$(awk '/^ssrc /{print $2; exit}' "$W/alice.out")
for u in bob dave; do
	if grep -q "^media ok ssrc $AS mki " "$W/$u.out"; then
		ok "$u decrypts Alice's SRTP ($(grep -c "^media ok ssrc $AS" "$W/$u.out") MKI(s))"
	else
		fail "$u heard nothing from Alice ($AS)"
		cat "$W/$u.out"
	fi
done
grep -q "^media ok ssrc $AS mki $(mki "$E_FINAL")" "$W/bob.out" &&
	ok "Bob decrypts Alice under the final epoch" ||
	fail "Bob never heard Alice under epoch $E_FINAL"
if grep -Eqi 'psk *=|[0-9a-f]{32}' "$W/confd.log"; then
	fail "confd log holds something key-like"
else
	ok "no key material in confd's log"
fi
kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
KPID=
if [ "$FAIL" = 0 ]; then
	echo "all confd rekey checks passed"
	exit 0
fi
echo "--- confd.log"
tail -n 80 "$W/confd.log"
exit 1
