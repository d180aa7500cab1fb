#!/bin/bash
# confd_nodes_tls.sh -- "Focus nodes behind Kamailio" over SIP/TLS, hop by
# hop (docs/DEPLOY.md "SIP over TLS through Kamailio"): one kmsd, two
# conclave-confd nodes (`node n1`, `node n2`) that listen on TLS only (no
# UDP, no TCP), and Kamailio with the shipped etc/kamailio-dispatch.cfg
# started with -A WITH_TLS, listening on TLS only. Every participant is
# `conclave ua --tls --ca CA` talking to Kamailio only.
#  - one test CA signs Kamailio's and both nodes' certificates (SAN
#    IP:127.0.0.1); Kamailio's tls profiles (the shipped
#    etc/kamailio-tls.cfg, paths rewritten) verify the nodes' chain on
#    every connection to a node ([client:default]) and not the members'
#    throwaway certificates ([client:any] server_id=members, picked by the
#    script for requests to members); the members verify Kamailio's;
#  - Alice creates through Kamailio (factory URI, round-robin onto n1 or
#    n2: the focus URI's tag), Bob joins, Carol joins and leaves again
#    (policy rekey-on=join,leave): the focus's rekey re-INVITEs reach the
#    members along the Record-Route, over TLS, and are answered; Alice,
#    Bob and Carol all hear each other, decrypted > 0, failed == 0;
#  - with everyone in the conference, `ss -tn` shows established TCP
#    connections from the members to Kamailio's TLS port, from Kamailio to
#    the node's TLS port, and to the members' TLS listeners (the rekey
#    re-INVITEs Kamailio relays); nothing could have used UDP: no process
#    listens for SIP on UDP except the members' unused UDP sockets;
#  - a third node n3 whose certificate comes from another CA: Kamailio
#    refuses it (its probes fail the TLS handshake), a join to its focus
#    through Kamailio gets no call (480), n3 never sees a SIP request.
#
# usage: confd_nodes_tls.sh <conclave-binary> <build>/tests
# exit 77 (skip) if kamailio, its tls module or openssl is missing.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=nodestls
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
# shellcheck source=lib/kamtls.sh disable=SC1091
. "$(dirname "$0")/lib/kamtls.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
kam_need

# ---- certificates: one CA for Kamailio and the nodes, a stranger CA -------------
env_ca sip-ca && env_ca stranger-ca || fail "openssl: CA"
for n in kamailio n1 n2; do env_leaf $n sip-ca || fail "openssl: $n"; done
env_leaf n3 stranger-ca || fail "openssl: n3"

# ---- the store: Alice creates, allowing Bob and Carol --------------------------
env_store alice bob carol
KPORT=$(port)
P1=$(port)
P2=$(port)
P3=$(port)
KAM=$(port)
env_creds "$KPORT" alice bob carol
env_kmsd "$KPORT" || exit 1

node() { # tag port: a TLS-only node, rekeys on join and leave
	kam_node "$1" "$2" "policy rekey-on=join,leave" \
		"policy min-rekey-interval=1s" "policy grace=2000" \
		"policy ack-deadline=3000"
}
node n1 "$P1"
N1PID=$NPID
node n2 "$P2"
N2PID=$NPID
node n3 "$P3"
N3PID=$NPID
if grep -q "listening sip UDP\|listening sip TCP" "$W"/n?.log; then
	fail "a node listens on UDP or TCP"
fi

# ---- Kamailio: the shipped config with -A WITH_TLS --------------------------------
cat >"$W/dispatcher.list" <<EOF
# set 1: n1, n2 (new conferences); set 100+K: node nK (its foci)
1 sip:127.0.0.1:$P1;transport=tls 0 0 duid=n1
1 sip:127.0.0.1:$P2;transport=tls 0 0 duid=n2
101 sip:127.0.0.1:$P1;transport=tls 0 0 duid=n1
102 sip:127.0.0.1:$P2;transport=tls 0 0 duid=n2
103 sip:127.0.0.1:$P3;transport=tls 0 0 duid=n3
EOF
kam_start || exit 1
ok "kamailio up on tls:127.0.0.1:$KAM, its certificate verifies (n1=$P1, n2=$P2, n3=$P3)"
if ss -uln | grep -q "127.0.0.1:$KAM "; then
	fail "kamailio listens on UDP $KAM"
fi

# ua NAME args...: a TLS participant through Kamailio; PID_NAME, FD_NAME
ua() {
	local n=$1 fd
	shift
	mkfifo "$W/$n.in"
	timeout 60 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$KAM" --tls --ca "$W/sip-ca.crt" \
		--skew $SKEW --keepalive 1 --timeout 8 --duration 45 \
		--grace 2000 --report "$W/$n.json" "$@" \
		<"$W/$n.in" >"$W/$n.out" 2>&1 &
	env_bg $!
	eval "PID_$n=$!"
	exec {fd}>"$W/$n.in"
	eval "FD_$n=$fd"
}
say() { # NAME LINE
	local fd
	eval "fd=\$FD_$1"
	(echo "$2" >&"$fd") 2>/dev/null
}
waitexit() { # PID TENTHS: its exit status, or 124 if still running
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

# ---- Alice creates through the factory URI -----------------------------------------
T0=$(date +%s)
ua alice --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 100 && ok "Alice created through Kamailio over TLS" ||
	fail "Alice did not create: $(tail -3 "$W/alice.out")"
FOCUS=$(cat "$W/focus" 2>/dev/null)
TAG=$(sed -n 's/^sip:focus[0-9]*-\(n[12]\)\.conf1@example\.org$/\1/p' <<<"$FOCUS")
if [ -n "$TAG" ]; then
	ok "conference landed on node $TAG: $FOCUS"
else
	fail "focus URI '$FOCUS' names neither n1 nor n2"
	TAG=n1
fi
[ "$TAG" = n1 ] && NPORT=$P1 || NPORT=$P2
grep -q "media inactive" "$W/alice.out" && fail "confd answered without a media plane"

# ---- Bob joins (rekey on join), Carol joins (rekey), Carol leaves (rekey) ---------
ua bob join "$FOCUS"
waitfor "$W/bob.out" "joined" 100 && ok "Bob joined $FOCUS through Kamailio" ||
	fail "Bob did not join: $(tail -3 "$W/bob.out")"
waitfor "$W/alice.out" "rekey answered" 100 &&
	ok "Bob's join: the focus's rekey re-INVITE reached Alice through Kamailio" ||
	fail "no rekey at Alice after Bob's join"
sleep 2
ua carol join "$FOCUS"
waitfor "$W/carol.out" "joined" 100 && ok "Carol joined" ||
	fail "Carol did not join: $(tail -3 "$W/carol.out")"
waitfor "$W/bob.out" "rekey answered" 100 &&
	ok "Carol's join: the rekey re-INVITE reached Bob through Kamailio" ||
	fail "no rekey at Bob after Carol's join"
sleep 3

# everyone is in: the TCP connections that carry the TLS
SS=$(ss -tnH state established 2>/dev/null)
echo "$SS" >"$W/ss.txt"
n_in=$(awk -v p=":$KAM" '$3 ~ p"$"' <<<"$SS" | wc -l)
n_node=$(awk -v p="127.0.0.1:$NPORT" '$4 == p' <<<"$SS" | wc -l)
[ "$n_in" -ge 3 ] &&
	ok "$n_in TCP connections established to Kamailio's TLS port $KAM (3 members)" ||
	fail "$n_in TCP connections to Kamailio's TLS port (want >= 3)"
[ "$n_node" -ge 1 ] &&
	ok "$n_node TCP connection(s) established to node $TAG's TLS port $NPORT" ||
	fail "no TCP connection to node $TAG's TLS port $NPORT"
# which of them is Kamailio's: the peer of a node connection is Kamailio
# (the members never talk to a node)
kam_out=$(ss -tnHp state established "dport = :$NPORT" 2>/dev/null | grep -c kamailio)
[ "$kam_out" -ge 1 ] && ok "Kamailio holds the connection to node $TAG" ||
	fail "the connection to node $TAG is not Kamailio's"
conclave_to_node=$(ss -tnHp state established "dport = :$NPORT" 2>/dev/null |
	grep -c '"conclave"')
[ "$conclave_to_node" = 0 ] || fail "a member talks to node $TAG directly"
# the focus's requests to members go node -> Kamailio over TLS too (the
# Record-Route names Kamailio's TLS socket)
confd_to_kam=$(ss -tnHp state established "dport = :$KAM" 2>/dev/null |
	grep -c '"conclave-confd"')
[ "$confd_to_kam" -ge 1 ] &&
	ok "node $TAG opened TLS to Kamailio's Record-Route ($confd_to_kam connection(s))" ||
	fail "no connection from a confd node to Kamailio's TLS port"
# Kamailio relayed the focus's re-INVITEs to the members' Contacts: it
# holds connections to TLS listeners of conclave ua processes
kam_to_ua=$(ss -tnHp state established 2>/dev/null | grep kamailio |
	awk '{print $4}' | sort -u | while read -r peer; do
	ss -tlnHp "sport = :${peer##*:}" 2>/dev/null | grep -c '"conclave"'
done | awk '{s += $1} END {print s + 0}')
[ "$kam_to_ua" -ge 2 ] &&
	ok "Kamailio opened TLS to $kam_to_ua members' Contacts (the focus's in-dialog requests)" ||
	fail "Kamailio has $kam_to_ua connections to members' listeners (want >= 2)"

NR=$(grep -c "rekey answered" "$W/alice.out")
say carol leave
waitexit "$PID_carol" 80
rc=$?
[ $rc = 0 ] && grep -q "bye 200" "$W/carol.out" &&
	ok "Carol left: BYE through Kamailio -> 200" || fail "Carol: rc=$rc, no BYE 200"
for _ in $(seq 1 80); do
	[ "$(grep -c "rekey answered" "$W/alice.out")" -gt "$NR" ] && break
	sleep 0.1
done
[ "$(grep -c "rekey answered" "$W/alice.out")" -gt "$NR" ] &&
	ok "Carol's leave: another rekey re-INVITE reached Alice" ||
	fail "no rekey at Alice after Carol's leave ($NR answered before)"
sleep 3
for n in bob alice; do
	say $n leave
	eval "p=\$PID_$n"
	waitexit "$p" 80
	rc=$?
	[ $rc = 0 ] && grep -q "bye 200" "$W/$n.out" &&
		ok "$n left: BYE through Kamailio -> 200" || fail "$n: rc=$rc, no BYE 200"
done
for n in alice bob carol; do
	grep -q "keepalive: focus answers INFO with 200" "$W/$n.out" &&
		ok "$n: keepalive INFO answered 200 through Kamailio" ||
		fail "$n: no keepalive answer"
done

python3 - "$W" <<'EOP' || FAIL=1
import json, sys
w = sys.argv[1]
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob", "carol")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def heard(r, hz):
    return any(abs(t["hz"] - hz) < 1 for s in r["sources"] for t in s["tones"])
for a in R:
    rx = R[a]["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{a}: decrypted {rx['decrypted']}, failed {rx['failed']},"
          f" rekeys {R[a]['rekeys']}")
    for b in R:
        if a != b:
            check(heard(R[a], R[b]["tone_hz"]), f"{a} heard {b}")
check(R["alice"]["rekeys"] >= 3 and R["bob"]["rekeys"] >= 2,
      f"rekeys: alice {R['alice']['rekeys']} (>= 3), bob {R['bob']['rekeys']} (>= 2)")
sys.exit(1 if bad else 0)
EOP

# ---- n3: a certificate from another CA, Kamailio refuses it -----------------------
timeout 20 "$CONCLAVE" ua --cred "$W/creds/bob.cred" --server "127.0.0.1:$KAM" \
	--tls --ca "$W/sip-ca.crt" --skew $SKEW --timeout 6 --duration 1 \
	join "sip:focus1-n3.conf1@$REALM" </dev/null >"$W/bob-n3.out" 2>&1
rc=$?
[ $rc = 1 ] && ! grep -q "joined" "$W/bob-n3.out" &&
	ok "a node with a certificate from another CA gets no call ($(grep -o 'status [0-9]*.*' "$W/bob-n3.out" | head -1))" ||
	fail "join to n3 through Kamailio: rc=$rc"
# a handshake Kamailio started (TLS write) that failed verification, and
# the peer it names is n3
VF=$(awk '/TLS write:.*certificate verify failed/ { f = 1; next }
	f && /src addr:/ { print $NF; f = 0 }' "$W/kamailio.log" |
	grep -c "^127.0.0.1:$P3\$")
[ "$VF" -ge 1 ] &&
	ok "kamailio refused n3's certificate: $VF handshakes failed (certificate verify failed)" ||
	fail "kamailio logged no certificate verification failure for n3"
grep -q "focus1-n3\|call " "$W/n3.log" && fail "n3 received a SIP request"
echo "run time: $(($(date +%s) - T0)) s after Kamailio came up"

if cat "$W"/*.out "$W"/n?.log | grep -Eqi '[0-9a-f]{32}'; then
	fail "participant output or a log holds something key-like"
else
	ok "no key material in outputs or logs"
fi

kill "$KAMPID" "$N1PID" "$N2PID" "$N3PID" "$KPID" 2>/dev/null
wait "$KAMPID" "$N1PID" "$N2PID" "$N3PID" "$KPID" 2>/dev/null
if [ "$FAIL" = 0 ]; then
	echo "all confd_nodes_tls checks passed"
	exit 0
fi
for f in "$W"/*.out; do
	echo "--- $f"
	tail -n 8 "$f"
done
echo "--- kamailio.log"
tail -n 30 "$W/kamailio.log"
exit 1
