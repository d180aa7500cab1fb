#!/bin/bash
# confd_nodes_sdes.sh -- an SDES member (baresip 1.0.0, RFC 4568 a=crypto)
# in a conference on a focus node behind Kamailio over SIP/TLS, hop by hop
# (docs/DEPLOY.md "SIP over TLS through Kamailio", docs/SDES.md):
#
#   baresip --TLS--> Kamailio --TLS--> confd node (and back, in-dialog)
#
#  - the set-up of tests/confd_nodes_tls.sh: one kmsd, two confd nodes
#    (`node n1`, `node n2`) listening on TLS only, each with
#    `sdes_allow sip:bob@example.org` and `policy rekey-on=leave` (baresip
#    1.0.0 ignores a new key in a re-INVITE, docs/INTEROP.md); Kamailio
#    with etc/kamailio-dispatch.cfg -A WITH_TLS and etc/kamailio-tls.cfg
#    (paths rewritten), listening on TLS only; one test CA for Kamailio's
#    and the nodes' certificates;
#  - Alice (`conclave ua --tls --ca`, KMS, 600 Hz) creates through the
#    factory URI (lands on n1 or n2), allowing sip:bob@example.org;
#  - Bob is baresip (ausine 1000 Hz, srtp-mand, AOR sip:bob@example.org,
#    no MKI) with Kamailio's TLS socket as outbound proxy: it dials the
#    focus URI itself (sip:focusN-nK.conf1@example.org) with an a=crypto
#    offer; Kamailio relays the INVITE to the node over its own TLS
#    connection, so confd's "SDES only over TLS" rule is satisfied by
#    that hop; baresip has a certificate (bs_config tls=) so that it
#    accepts the TLS connection Kamailio opens to its Contact for the
#    focus's in-dialog requests;
#  - asserts: the node logs "sip:bob@example.org accepted, trust sdes"
#    (answer without MKI); the INVITE reached the node from Kamailio (ss:
#    only Kamailio holds connections to the node's TLS port); Alice's
#    roster (SUBSCRIBE through Kamailio) lists Bob with trust sdes;
#    Alice leaves (BYE 200): the focus's rekey re-INVITE to Bob goes
#    node -> Kamailio -> baresip (Kamailio opens TLS to baresip's Contact,
#    ss shows it) and baresip answers it (the node logs "answered");
#    Bob hangs up: baresip's BYE goes along the Record-Route and gets
#    200, the node logs Bob's leave; baresip's recording holds Alice's
#    600 Hz; Alice's report has a source peaking at 1000 Hz with
#    failed == 0;
#  - no key material (32+ hex digits, 40-char base64) in the nodes' logs,
#    Kamailio's log or Alice's output (baresip's own -s trace shows its
#    SDP, keys included: that is baresip's, not ours).
#
# What this does NOT show: who Bob is. Kamailio sees the SDES keys (clear
# text in the SDP inside each TLS hop) and this Kamailio configuration
# does not authenticate From, so sdes_allow is checked against an
# identity anyone reaching the proxy could claim (docs/DEPLOY.md).
#
# usage: confd_nodes_sdes.sh <conclave-binary> <build>/tests
# exit 77 (skip) if kamailio, its tls module, baresip or openssl is missing.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=nodessdes
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
# shellcheck source=lib/kamtls.sh disable=SC1091
. "$(dirname "$0")/lib/kamtls.sh"
# shellcheck source=lib/baresip.sh disable=SC1091
. "$(dirname "$0")/lib/baresip.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
kam_need
bs_need
trap 'bs_cleanup; env_cleanup' EXIT

# ---- certificates: one CA for Kamailio and the nodes; baresip's own -------------
env_ca sip-ca || fail "openssl: CA"
for n in kamailio n1 n2; do env_leaf $n sip-ca || fail "openssl: $n"; done
bs_tls_cert "$W/bs-tls" || fail "openssl: baresip"

# ---- the store: Alice creates, allowing Bob (SDES) ------------------------------
env_store alice bob
KPORT=$(port)
P1=$(port)
P2=$(port)
KAM=$(port)
env_creds "$KPORT" alice
env_kmsd "$KPORT" || exit 1

node() { # tag port: a TLS-only node admitting Bob by SDES
	kam_node "$1" "$2" "sdes_allow sip:bob@$REALM" \
		"policy rekey-on=leave" "policy min-rekey-interval=200"
}
node n1 "$P1"
N1PID=$NPID
node n2 "$P2"
N2PID=$NPID
grep -q "listening sip UDP\|listening sip TCP" "$W"/n?.log &&
	fail "a node listens on UDP or TCP"
grep -q "SDES (a=crypto) members allowed: sip:bob@$REALM" "$W/n1.log" &&
	ok "the nodes name the SDES identities at start" || fail "no SDES start line"

# ---- Kamailio: the shipped config with -A WITH_TLS --------------------------------
cat >"$W/dispatcher.list" <<EOF
1 sip:127.0.0.1:$P1;transport=tls 0 0 duid=n1
1 sip:127.0.0.1:$P2;transport=tls 0 0 duid=n2
101 sip:127.0.0.1:$P1;transport=tls 0 0 duid=n1
102 sip:127.0.0.1:$P2;transport=tls 0 0 duid=n2
EOF
kam_start || exit 1
ok "kamailio up on tls:127.0.0.1:$KAM (n1=$P1, n2=$P2)"

# ---- Alice creates through the factory URI -----------------------------------------
T0=$(date +%s)
mkfifo "$W/alice.in"
timeout 60 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
	--server "127.0.0.1:$KAM" --tls --ca "$W/sip-ca.crt" \
	--skew $SKEW --keepalive 1 --timeout 8 --duration 30 --tone 600 \
	--grace 2000 --report "$W/alice.json" --focus-out "$W/focus" \
	create --factory "$FACTORY" --allow "sip:bob@$REALM" \
	<"$W/alice.in" >"$W/alice.out" 2>&1 &
APID=$!
env_bg $APID
exec {FD_alice}>"$W/alice.in"
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
NLOG=$W/$TAG.log

# ---- Bob: baresip, outbound proxy = Kamailio's TLS socket, dials the focus URI ---
BP=$(bs_ports)
bs_config bob "$BP" source=ausine,1000 host=$REALM tls="$W/bs-tls" \
	outbound="sip:127.0.0.1:$KAM;transport=tls" || fail "bs_config"
bs_start bob || exit 1
BLOG=$(bs_log bob)
if bs_dial bob "$FOCUS"; then
	ok "baresip's call to $FOCUS established through Kamailio over TLS"
	# the INVITE baresip sent: to Kamailio, over TLS, for the focus URI
	grep -q "^INVITE $FOCUS SIP/2.0" "$BLOG" &&
		ok "baresip's Request-URI is the focus URI" ||
		fail "baresip's INVITE is not for $FOCUS"
	grep -Eq "(TLS|tls).*127.0.0.1:$KAM|127.0.0.1:$KAM.*(TLS|tls)" "$BLOG" &&
		ok "baresip sent it to Kamailio's TLS socket $KAM" ||
		fail "baresip's trace does not show TLS to 127.0.0.1:$KAM"
	grep -q "^Record-Route: <sip:127.0.0.1:$KAM;transport=tls;lr>" "$BLOG" &&
		ok "the 200 carries Kamailio's TLS Record-Route" ||
		fail "no TLS Record-Route of Kamailio in baresip's trace"
	# who holds connections to the node's TLS port: Kamailio only
	SS=$(ss -tnHp state established "dport = :$NPORT" 2>/dev/null)
	echo "$SS" >"$W/ss-node.txt"
	grep -q kamailio <<<"$SS" && ! grep -q '"baresip"' <<<"$SS" &&
		ok "only Kamailio talks to node $TAG's TLS port ($(grep -c . <<<"$SS") connection(s))" ||
		fail "connections to node $TAG: $SS"
	# the roster (SUBSCRIBE through Kamailio over TLS) names Bob's trust
	echo watch >&"$FD_alice"
	waitfor "$W/alice.out" "roster:   sip:bob@$REALM connected.*trust sdes" 80 &&
		ok "Alice's roster: Bob connected, trust sdes" ||
		fail "Alice's roster does not show Bob's trust sdes"
	sleep 4
	# Alice leaves first: the focus rekeys (policy rekey-on=leave) and
	# re-INVITEs Bob, an in-dialog request node -> Kamailio -> baresip;
	# Kamailio opens TLS to baresip's Contact (its TLS listener, BP+1)
	echo leave >&"$FD_alice"
	for _ in $(seq 1 80); do kill -0 $APID 2>/dev/null || break; sleep 0.1; done
	wait $APID
	rc=$?
	[ $rc = 0 ] && grep -q "bye 200" "$W/alice.out" &&
		ok "Alice left: BYE through Kamailio -> 200" || fail "Alice: rc=$rc, no BYE 200"
	waitfor "$NLOG" "sip:bob@$REALM (SDES) answered epoch" 50 &&
		ok "node $TAG: the rekey re-INVITE to Bob went through Kamailio, baresip answered ($(grep -o "answered epoch [0-9]*" "$NLOG" | tail -1))" ||
		fail "node $TAG: no answer from baresip to the rekey re-INVITE"
	grep -q "^INVITE sip:bob-[^@]*@127.0.0.1:$((BP + 1));transport=tls SIP/2.0" "$BLOG" &&
		ok "baresip received the focus's re-INVITE on its TLS listener $((BP + 1))" ||
		fail "no re-INVITE in baresip's trace"
	KB=$(ss -tnHp state established "dport = :$((BP + 1))" 2>/dev/null | grep -c kamailio)
	[ "$KB" -ge 1 ] &&
		ok "Kamailio holds $KB TLS connection(s) to baresip's Contact" ||
		fail "no connection from Kamailio to baresip's TLS port $((BP + 1))"
	bs_hangup bob && ok "baresip hung up"
	# baresip's BYE: along the Record-Route (Kamailio), 200 from the node
	bye200() {
		awk '/^(SIP\/2\.0 [0-9]+ |[A-Z]+ sip:)/ { st = $0 }
			/^CSeq: [0-9]+ BYE/ && st ~ /^SIP\/2\.0 200 / { n++ }
			END { exit n ? 0 : 1 }' "$BLOG"
	}
	for _ in $(seq 1 50); do bye200 && break; sleep 0.1; done
	bye200 && ok "Bob's BYE through Kamailio -> 200" ||
		fail "no 200 to baresip's BYE"
	waitfor "$NLOG" "sip:bob@$REALM left (BYE)" 30 &&
		ok "node $TAG: Bob left (BYE)" || fail "node $TAG did not log Bob's BYE"
fi
waitfor "$NLOG" "sip:bob@$REALM accepted, trust sdes" 10 &&
	ok "node $TAG: $(grep -o "sip:bob@$REALM accepted, trust sdes[^;]*" "$NLOG" | head -1)" ||
	fail "node $TAG logged no 'sip:bob@$REALM accepted, trust sdes'"
grep -q "SDES offer refused" "$W"/n?.log &&
	fail "a node refused an SDES offer: $(grep -h "SDES offer refused" "$W"/n?.log | head -1)"
grep -q "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" "$BLOG" ||
	fail "no a=crypto in baresip's SIP trace"
grep -q "srtp: failed to decrypt" "$BLOG" &&
	echo "note: $(grep -c 'srtp: failed to decrypt' "$BLOG") packets failed at baresip"

# (if baresip never got in, Alice is still there)
if kill -0 $APID 2>/dev/null; then
	echo leave >&"$FD_alice"
	for _ in $(seq 1 80); do kill -0 $APID 2>/dev/null || break; sleep 0.1; done
fi
bs_stop bob

wav=$(bs_recorded bob dec)
if [ -n "$wav" ] && r=$(bs_tone "$wav" 600 1000); then
	ok "baresip heard Alice's 600 Hz ($r)"
else
	fail "baresip did not hear Alice (${r:-no recording})"
fi
python3 - "$W/alice.json" <<'EOP' || FAIL=1
import json, sys
r = json.load(open(sys.argv[1]))
# 1000 Hz is not one of the report's tone candidates: its peak frequency
heard = [s for s in r["sources"] if s["packets"] > 100 and
         s["peak_hz"] is not None and abs(s["peak_hz"] - 1000) <= 10]
rx = r["received"]
good = bool(heard) and rx["failed"] == 0 and rx["decrypted"] > 0
print(("ok " if good else "FAIL: ") + "Alice heard baresip's 1000 Hz (peak; "
      "%d packets from that source; decrypted %d, failed %d)" % (
          heard[0]["packets"] if heard else 0, rx["decrypted"], rx["failed"]))
sys.exit(0 if good else 1)
EOP
echo "run time: $(($(date +%s) - T0)) s after Kamailio came up"

# ---- no key material in our logs ----------------------------------------------
if grep -E -e '[0-9a-fA-F]{32}' -e '[A-Za-z0-9+/]{40}' \
	"$W"/n?.log "$W/alice.out" "$W/kamailio.log"; then
	fail "key-like material in a node's log, Kamailio's log or Alice's output"
else
	ok "no key material in the nodes' logs, Kamailio's log or Alice's output"
fi

kill "$KAMPID" "$N1PID" "$N2PID" "$KPID" 2>/dev/null
wait "$KAMPID" "$N1PID" "$N2PID" "$KPID" 2>/dev/null
if [ "$FAIL" = 0 ]; then
	echo "all confd_nodes_sdes checks passed"
	exit 0
fi
echo "--- alice.out"
tail -n 12 "$W/alice.out"
echo "--- $TAG.log"
tail -n 30 "$NLOG"
echo "--- kamailio.log"
tail -n 30 "$W/kamailio.log"
echo "--- baresip"
grep -v "^$" "$BLOG" | tail -n 40
exit 1
