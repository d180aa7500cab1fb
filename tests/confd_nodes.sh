#!/bin/bash
# confd_nodes.sh -- issue 7 §2 "Focus nodes behind Kamailio": one kmsd,
# two conclave-confd nodes (`node n1`, `node n2`) and Kamailio with the
# shipped etc/kamailio-dispatch.cfg on loopback; every participant talks
# to Kamailio only (`conclave ua --server KAMAILIO`).
#  - Alice and Bob (both allowed to create) each create a conference
#    through the factory URI: round-robin puts them on both nodes (the
#    focus URIs carry the tags -n1 and -n2), and the KMS pattern
#    sip:focus*.conf1@realm covers both.
#  - Carol joins Alice's, Dave joins Bob's, by focus URI through Kamailio
#    (routed on the tag); each pair hears each other, all decrypted. A
#    node answers 404 for another node's focus.
#  - kill -9 of node n1: the members of its conference notice through the
#    keepalive INFO (Kamailio answers 408 for the dead node) and exit 3,
#    "focus-lost"; the members on n2 carry on (their packet counters keep
#    rising) and leave normally with BYE 200.
#  - a conference created after the kill lands on n2 (round-robin picks
#    the dead node at most once: its INVITE fails over, and the OPTIONS
#    probes take n1 out of the set).
#
# usage: confd_nodes.sh <conclave-binary> <build>/tests
# exit 77 (skip) if kamailio (or its dispatcher module) is not installed.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=nodes
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
KAMAILIO=$(command -v kamailio || ls /usr/sbin/kamailio 2>/dev/null)
CFG=$(cd "$(dirname "$0")/.." && pwd)/etc/kamailio-dispatch.cfg
if [ -z "$KAMAILIO" ] || [ ! -x "$KAMAILIO" ]; then
	echo "skip: kamailio is not installed"
	exit 77
fi

# ---- the store: Alice and Bob may create ----------------------------------------
env_store alice bob carol dave
kms policy allow-conference bob conf1-focus >/dev/null || fail "allow bob"
KPORT=$(port)
P1=$(port)
P2=$(port)
KAM=$(port)
env_creds "$KPORT" alice bob carol dave
env_kmsd "$KPORT" || exit 1

# node TAG PORT: a confd node ($W/TAG.conf, $W/TAG.log); sets NPID
node() {
	{
		echo "udp 127.0.0.1:$2"
		echo "tcp 127.0.0.1:$2"
		echo "factory $FACTORY"
		echo "node $1"
		echo "credential $W/creds/confd.cred"
		echo "skew $SKEW"
		echo "idle_timeout 5"
		echo "log_level debug"
	} >"$W/$1.conf"
	"$CONFD" --config "$W/$1.conf" >"$W/$1.log" 2>&1 &
	NPID=$!
	env_bg $NPID
	waitfor "$W/$1.log" "listening sip TCP" 100 ||
		fail "confd node $1 did not come up"
}
node n1 "$P1"
N1PID=$NPID
node n2 "$P2"
N2PID=$NPID
grep -q "focus<N>-n1" "$W/n1.log" && ok "node n1: foci focus<N>-n1" ||
	fail "node n1 does not name its tag"

# ---- Kamailio: the shipped config, this run's dispatcher list -------------------
mkdir -p "$W/kam"
cat >"$W/dispatcher.list" <<EOF
# set 1: every node (new conferences); set 100+K: node nK (its foci)
1 sip:127.0.0.1:$P1 0 0 duid=n1
1 sip:127.0.0.1:$P2 0 0 duid=n2
101 sip:127.0.0.1:$P1 0 0 duid=n1
102 sip:127.0.0.1:$P2 0 0 duid=n2
EOF
"$KAMAILIO" -f "$CFG" -DD -E -l "udp:127.0.0.1:$KAM" \
	-A "DS_LIST=\"$W/dispatcher.list\"" -A DS_PING=1 -A FR_TIMER=1000 \
	-m 256 -M 16 -w "$W/kam" -Y "$W/kam" >"$W/kamailio.log" 2>&1 &
KAMPID=$!
env_bg $KAMPID
up=
for _ in $(seq 1 50); do
	if ! kill -0 $KAMPID 2>/dev/null; then
		break
	fi
	# Kamailio answers an OPTIONS to itself (no user part)
	if python3 - "$KAM" <<'EOP' 2>/dev/null; then
import socket, sys
p = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.3)
lp = s.getsockname()[1]
m = (f"OPTIONS sip:127.0.0.1:{p} SIP/2.0\r\n"
     f"Via: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK-probe{lp}\r\n"
     f"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{p}>\r\n"
     f"Call-ID: probe{lp}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
     f"Content-Length: 0\r\n\r\n")
s.sendto(m.encode(), ("127.0.0.1", p))
sys.exit(0 if s.recv(4096).startswith(b"SIP/2.0 200") else 1)
EOP
		up=1
		break
	fi
	sleep 0.1
done
if [ -z "$up" ]; then
	if grep -qi "dispatcher" "$W/kamailio.log" &&
		grep -qi "could not open\|cannot open\|no such file" "$W/kamailio.log"; then
		echo "skip: kamailio has no dispatcher module"
		FAIL=0
		exit 77
	fi
	fail "kamailio did not come up"
	tail -20 "$W/kamailio.log"
	exit 1
fi
ok "kamailio up on 127.0.0.1:$KAM (dispatcher over n1=$P1, n2=$P2)"

# ua NAME TAG args...: a participant through Kamailio; $UPID, stdin a FIFO
ua() {
	local n=$1 t=$2 fd
	shift 2
	mkfifo "$W/$n-$t.in"
	timeout 50 "$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$KAM" --skew $SKEW --keepalive 1 \
		--timeout 8 --duration 40 --grace 2000 \
		--report "$W/$n-$t.json" "$@" \
		<"$W/$n-$t.in" >"$W/$n-$t.out" 2>&1 &
	UPID=$!
	env_bg $UPID
	exec {fd}>"$W/$n-$t.in"
	eval "FD_${n}_$t=$fd"
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
hear() { # A B: A's report holds B's tone, all decrypted
	python3 - "$W/$1.json" "$W/$2.json" <<'EOP'
import json, sys
ra, rb = (json.load(open(p)) for p in sys.argv[1:3])
hz = rb["tone_hz"]
got = any(abs(t["hz"] - hz) < 1 for s in ra["sources"] for t in s["tones"])
rx = ra["received"]
print(f"heard {hz:.0f} Hz: {got}, decrypted {rx['decrypted']},"
      f" failed {rx['failed']}, ended {ra['ended']}")
sys.exit(0 if got and rx["decrypted"] > 0 and rx["failed"] == 0 else 1)
EOP
}
ended() { # NAME-TAG
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]));
print(r["ended"], "|", r["ended_reason"])' "$W/$1.json" 2>/dev/null
}
decrypted() { # NAME TAG: "decrypted=" of a `status` line on stdin
	local fd before
	eval "fd=\$FD_$1_$2"
	before=$(grep -c "^status " "$W/$1-$2.out")
	(echo status >&"$fd") 2>/dev/null
	for _ in $(seq 1 20); do
		[ "$(grep -c "^status " "$W/$1-$2.out")" -gt "$before" ] && break
		sleep 0.1
	done
	grep "^status " "$W/$1-$2.out" | tail -1 | sed -n 's/.* decrypted=\([0-9]*\).*/\1/p'
}
create() { # NAME TAG ALLOW: create through Kamailio; $FOCUS
	ua "$1" "$2" --focus-out "$W/focus-$1-$2" create --factory "$FACTORY" \
		--allow "$3"
	CRPID=$UPID
	FOCUS=
	if waitfor "$W/$1-$2.out" "joined" 100; then
		FOCUS=$(cat "$W/focus-$1-$2")
	else
		fail "$1 did not create a conference through Kamailio"
		tail -5 "$W/$1-$2.out"
	fi
}

# ---- two creators: both nodes get a conference ---------------------------------
create alice a "sip:carol@$REALM"
FA=$FOCUS
APID=$CRPID
if grep -q "media inactive" "$W/alice-a.out"; then
	echo "skip: conclave-confd answers without a media plane"
	FAIL=0
	exit 77
fi
create bob b "sip:dave@$REALM"
FB=$FOCUS
BPID=$CRPID
tag() { sed -n 's/^sip:focus[0-9]*-\(n[0-9]*\)\.conf1@.*/\1/p' <<<"$1"; }
TA=$(tag "$FA")
TB=$(tag "$FB")
echo "alice's conference: $FA, bob's: $FB"
if [ -n "$TA" ] && [ -n "$TB" ] && [ "$TA" != "$TB" ]; then
	ok "creations spread over the nodes: $TA and $TB"
else
	fail "conferences not on both nodes: '$FA' '$FB'"
fi
for f in "$FA" "$FB"; do
	case $f in
	sip:focus*-n[12].conf1@$REALM) ;;
	*) fail "focus URI $f outside sip:focus*-n<K>.conf1@$REALM" ;;
	esac
done

# ---- members join by focus URI through Kamailio ----------------------------------
ua carol a join "$FA"
CPIDA=$UPID
ua dave b join "$FB"
DPIDB=$UPID
waitfor "$W/carol-a.out" "joined" 100 || fail "Carol did not join $FA"
waitfor "$W/dave-b.out" "joined" 100 || fail "Dave did not join $FB"
sleep 3
for n in alice-a carol-a bob-b dave-b; do
	grep -q "keepalive: focus answers INFO with 200" "$W/$n.out" &&
		ok "$n: keepalive INFO answered 200 through Kamailio" ||
		fail "$n: no keepalive answer"
done

# which conference is on n1?
if [ "$TA" = n1 ]; then
	DEAD="alice:a:$APID carol:a:$CPIDA" LIVE="bob:b:$BPID dave:b:$DPIDB"
	LA=bob-b LB=dave-b DA=alice-a DB=carol-a
else
	DEAD="bob:b:$BPID dave:b:$DPIDB" LIVE="alice:a:$APID carol:a:$CPIDA"
	LA=alice-a LB=carol-a DA=bob-b DB=dave-b
fi
# a node refuses another node's focus: n1's focus sent straight to n2
[ "$TA" = n1 ] && F1=$FA || F1=$FB
timeout 20 "$CONCLAVE" ua --cred "$W/creds/carol.cred" \
	--server "127.0.0.1:$P2" --skew $SKEW --timeout 5 --duration 1 \
	join "$F1" </dev/null >"$W/carol-wrong.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "status 404" "$W/carol-wrong.out" &&
	ok "node n2 answers 404 for n1's focus $F1" ||
	fail "n1's focus at n2: rc=$rc, $(grep -m1 status "$W/carol-wrong.out")"
declare -A BEFORE
for p in $LIVE; do
	IFS=: read -r n t _ <<<"$p"
	BEFORE[$n]=$(decrypted "$n" "$t")
done

# ---- kill -9 node n1 -------------------------------------------------------------
T0=$(date +%s%3N)
kill -9 "$N1PID"
wait "$N1PID" 2>/dev/null
for p in $DEAD; do
	IFS=: read -r n t pid <<<"$p"
	waitexit "$pid" 80
	rc=$?
	dt=$(($(date +%s%3N) - T0))
	if [ $rc = 3 ] && grep -q "focus lost: " "$W/$n-$t.out"; then
		ok "$n (on n1): focus lost after $dt ms, exit 3 ($(grep -o 'focus lost: .*' "$W/$n-$t.out" | head -1))"
	else
		fail "$n (on n1): rc=$rc after $dt ms (want 3, focus lost)"
		tail -5 "$W/$n-$t.out"
	fi
	case $(ended "$n-$t") in
	focus-lost*) ok "$n report: ended focus-lost" ;;
	*) fail "$n report: ended '$(ended "$n-$t")'" ;;
	esac
done
hear "$DA" "$DB" && ok "before the kill: $DA heard $DB" ||
	fail "before the kill: $DA did not hear $DB"
hear "$DB" "$DA" && ok "before the kill: $DB heard $DA" ||
	fail "before the kill: $DB did not hear $DA"

# ---- n2 carries on ----------------------------------------------------------------
sleep 1
for p in $LIVE; do
	IFS=: read -r n t pid <<<"$p"
	kill -0 "$pid" 2>/dev/null || fail "$n (on n2) ended with n1"
	now=$(decrypted "$n" "$t")
	if [ -n "$now" ] && [ "${BEFORE[$n]:-0}" -gt 0 ] && [ "$now" -gt "${BEFORE[$n]}" ]; then
		ok "$n (on n2) still decrypting: ${BEFORE[$n]} -> $now packets"
	else
		fail "$n (on n2): decrypted ${BEFORE[$n]:-?} -> ${now:-?}"
	fi
done

# ---- a new conference after the kill lands on n2 ---------------------------------
create alice c "sip:carol@$REALM"
FC=$FOCUS
NCPID=$CRPID
[ "$(tag "$FC")" = n2 ] && ok "conference created after the kill: $FC (n2)" ||
	fail "conference after the kill: '$FC' (want a -n2 focus)"
ua carol c join "$FC"
CPIDC=$UPID
waitfor "$W/carol-c.out" "joined" 100 && ok "Carol joined $FC" ||
	fail "Carol did not join $FC"
sleep 2.5

# ---- everyone left on n2 leaves with BYE ------------------------------------------
for p in $LIVE alice:c:$NCPID carol:c:$CPIDC; do
	IFS=: read -r n t pid <<<"$p"
	eval "fd=\$FD_${n}_$t"
	(echo leave >&"$fd") 2>/dev/null
done
for p in $LIVE alice:c:$NCPID carol:c:$CPIDC; do
	IFS=: read -r n t pid <<<"$p"
	waitexit "$pid" 80
	rc=$?
	[ $rc = 0 ] && grep -q "bye 200" "$W/$n-$t.out" &&
		ok "$n-$t left with BYE -> 200, exit 0" ||
		fail "$n-$t: rc=$rc, no BYE 200"
done
hear "$LA" "$LB" && ok "on n2: $LA heard $LB" || fail "on n2: $LA did not hear $LB"
hear "$LB" "$LA" && ok "on n2: $LB heard $LA" || fail "on n2: $LB did not hear $LA"
hear alice-c carol-c && ok "after the kill: alice-c heard carol-c" ||
	fail "after the kill: alice-c did not hear carol-c"
hear carol-c alice-c && ok "after the kill: carol-c heard alice-c" ||
	fail "after the kill: carol-c did not hear alice-c"

grep -q "factory: node sip:127.0.0.1:$P1 failed\|node n1 is down" "$W/kamailio.log" &&
	echo "note: kamailio: $(grep -o 'factory: node.*failed\|node n1 is down' "$W/kamailio.log" | head -1)"
if cat "$W"/*.out "$W"/n?.log | grep -Eqi '[0-9a-f]{32}'; then
	fail "participant output or confd log holds something key-like"
else
	ok "no key material in outputs or logs"
fi

kill "$N2PID" "$KAMPID" "$KPID" 2>/dev/null
wait "$N2PID" "$KAMPID" "$KPID" 2>/dev/null
if [ "$FAIL" = 0 ]; then
	echo "all confd_nodes checks passed"
	exit 0
fi
for f in "$W"/*.out; do
	echo "--- $f"
	tail -n 8 "$f"
done
echo "--- kamailio.log"
tail -n 30 "$W/kamailio.log"
exit 1
