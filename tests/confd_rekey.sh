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
UA=$TESTS/confua
ENV_TAG=confdrk
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD" "$UA"

# ---- the KMS store and the daemons ---------------------------------------------
env_store alice bob carol dave
KPORT=$(port)
SPORT=$(port)
URL=http://127.0.0.1:$KPORT/mikey
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 5" "log_level debug" "policy rekey-on=join,leave" "policy min-rekey-interval=200" "policy grace=1s" "policy ack-deadline=5s" || exit 1
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
env_bg $APID
for _ in $(seq 1 100); do
	[ -s "$W/focus" ] && break
	sleep 0.05
done
FOCUS=$(cat "$W/focus" 2>/dev/null)
[ -n "$FOCUS" ] && ok "created $FOCUS" || fail "create"
sleep 0.3
ua bob --rtp --wait-bye --guard 25000 invite "$FOCUS" >"$W/bob.out" 2>&1 &
BPID=$!
env_bg $BPID
sleep 0.5
ua carol --rtp --bye-after 2500 --guard 25000 invite "$FOCUS" \
	>"$W/carol.out" 2>&1 &
CAROL=$!
sleep 1
# ---- Dave joins: a rekey reaches every member ---------------------------------
ua dave --rtp --wait-bye --guard 25000 invite "$FOCUS" >"$W/dave.out" 2>&1 &
DPID=$!
env_bg $DPID
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
