#!/bin/bash
# confd_event.sh -- the conference event package (RFC 4575, DESIGN.md D9,
# issue 6 §3; seed 002 §5.1.2: protected conference event packages,
# participants securely told who else is present) with the real conclave-kmsd, conclave-confd and
# `conclave ua` on loopback. `conclave ua` speaks UDP/TCP only, so this
# confd runs with the test-only `event_insecure yes`; a second confd
# without it shows the TLS rule.
#
#   TLS rule: without event_insecure a UDP SUBSCRIBE gets 403 "event
#     package requires TLS" (logged); one over TLS passes that gate.
#   Alice creates, Bob joins, Alice `watch`es: a full roster (alice, bob,
#     connected, epoch, trust kms); Carol joins: the next version (+1)
#     lists her; Carol leaves: she is listed disconnected (departed).
#   Refused with 403 and a log line: Mallory (valid credential, not in the
#     conference) watching from her ua; a SUBSCRIBE with Alice's From but
#     no Target-Dialog of hers.
#   A flood of 200 SUBSCRIBEs in 1 s from one socket: mostly 429 with
#     Retry-After, while Carol joins again and Alice's watch sees it.
#   A forged NOTIFY body in Alice's subscription dialog: answered 200,
#     "roster: unparsable NOTIFY", her ua keeps running; one outside any
#     dialog: 481.
#   confd shuts down: Alice's subscription ends (state="deleted", then
#     terminated). No key-like hex anywhere.
#
# usage: confd_event.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=eventit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
for t in openssl curl; do
	command -v $t >/dev/null || {
		echo "skip: need $t"
		exit 77
	}
done

env_store alice bob carol mallory
KPORT=$(port)
SPORT=$(port)
APORT=$(port)
MLPORT=$(port)
MPORT=$(port)
S2PORT=$(port)
T2PORT=$(port)
env_creds "$KPORT" alice bob carol mallory
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 5" "event_insecure yes" \
	"metrics 127.0.0.1:$MPORT" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=200" "policy grace=1s" \
	"policy ack-deadline=5s" || exit 1
grep -q "warn: event_insecure" "$W/confd.log" &&
	ok "event_insecure WARNed at start" || fail "no WARN for event_insecure"

sip() { # python: send SIP requests over UDP/TLS, print the status codes
	python3 "$W/sip.py" "$@"
}
cat >"$W/sip.py" <<'EOP'
import random, socket, ssl, sys, time
def req(method, ruri, hdrs, body=b""):
    tag = "%x" % random.getrandbits(48)
    h = [f"{method} {ruri} SIP/2.0",
         f"Via: SIP/2.0/{{T}} 127.0.0.1:{{P}};rport;branch=z9hG4bK{tag}",
         "Max-Forwards: 70"] + hdrs + [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(h).encode() + body
def sub(dst, frm, td=None, cid=None):
    h = [f"From: <{frm}>;tag=f{random.getrandbits(32):x}",
         f"To: <{dst}>", f"Call-ID: {cid or random.getrandbits(64)}@py",
         "CSeq: 1 SUBSCRIBE", "Contact: <sip:py@127.0.0.1>",
         "Event: conference", "Accept: application/conference-info+xml",
         "Expires: 600"]
    if td:
        h.append("Target-Dialog: " + td)
    return req("SUBSCRIBE", dst, h)
def codes(data):
    return [int(l.split()[1]) for l in data if l.startswith("SIP/2.0 ")]
mode = sys.argv[1]
if mode in ("udp", "tls"):          # udp|tls port ruri from [td]
    port, ruri, frm = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    m = sub(ruri, frm, sys.argv[5] if len(sys.argv) > 5 else None)
    if mode == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0)); s.settimeout(3)
        m = m.replace(b"{T}", b"UDP").replace(b"{P}", str(s.getsockname()[1]).encode())
        s.sendto(m, ("127.0.0.1", port))
        d = s.recv(65535).decode(errors="replace")
    else:
        c = ssl.create_default_context(); c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        s = c.wrap_socket(socket.create_connection(("127.0.0.1", port), 3))
        s.settimeout(3)
        m = m.replace(b"{T}", b"TLS").replace(b"{P}", str(s.getsockname()[1]).encode())
        s.sendall(m)
        d = s.recv(65535).decode(errors="replace")
    print(d.split("\r\n")[0])
elif mode == "flood":               # flood port ruri from n secs
    port, ruri, frm, n, secs = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); s.setblocking(False)
    p = str(s.getsockname()[1]).encode()
    got = []
    t0 = time.time()
    for i in range(n):
        s.sendto(sub(ruri, frm).replace(b"{T}", b"UDP").replace(b"{P}", p), ("127.0.0.1", port))
        time.sleep(secs / n)
        try:
            while True: got.append(s.recv(65535).decode(errors="replace"))
        except BlockingIOError: pass
    end = time.time() + 1.5
    s.settimeout(0.2)
    while time.time() < end:
        try: got.append(s.recv(65535).decode(errors="replace"))
        except socket.timeout: pass
    c = codes([g.split("\r\n")[0] for g in got])
    ra = sum(1 for g in got if g.startswith("SIP/2.0 429") and "Retry-After:" in g)
    print(f"sent {n} answered {len(c)} 429 {c.count(429)} retry-after {ra} other {len(c) - c.count(429)}")
elif mode == "notify":              # notify port callid ltag rtag body
    port, cid, lt, rt, body = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6].encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); s.settimeout(3)
    h = [f"From: <sip:focus@example.org>;tag={rt}", f"To: <sip:ua@example.org>;tag={lt}",
         f"Call-ID: {cid}", "CSeq: 4000000 NOTIFY", "Contact: <sip:py@127.0.0.1>",
         "Event: conference", "Subscription-State: active;expires=600",
         "Content-Type: application/conference-info+xml"]
    m = req("NOTIFY", f"sip:ua@127.0.0.1:{port}", h, body)
    m = m.replace(b"{T}", b"UDP").replace(b"{P}", str(s.getsockname()[1]).encode())
    s.sendto(m, ("127.0.0.1", port))
    print(s.recv(65535).decode(errors="replace").split("\r\n")[0])
EOP

# ---- the TLS rule, on a second confd without event_insecure -------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=127.0.0.1 -keyout "$W/c2.key" -out "$W/c2.crt" \
	>/dev/null 2>&1 && cat "$W/c2.crt" "$W/c2.key" >"$W/c2.pem" ||
	fail "openssl"
sed -e "s/127.0.0.1:$SPORT/127.0.0.1:$S2PORT/" \
	-e "/event_insecure/d" -e "/metrics/d" "$W/confd.conf" >"$W/confd2.conf"
printf 'tls 127.0.0.1:%s\ntls_cert %s\n' "$T2PORT" "$W/c2.pem" >>"$W/confd2.conf"
"$CONFD" --config "$W/confd2.conf" >"$W/confd2.log" 2>&1 &
env_bg $!
waitfor "$W/confd2.log" "listening sip TLS" 50 || fail "confd2 did not come up"
F2="sip:focus1.conf1@127.0.0.1:$S2PORT"
r=$(sip udp "$S2PORT" "$F2" "sip:alice@$REALM")
[[ $r == "SIP/2.0 403"* ]] && ok "no TLS, no event_insecure: UDP SUBSCRIBE $r" ||
	fail "UDP SUBSCRIBE without event_insecure: $r"
grep -q "403 Forbidden: event package requires TLS" "$W/confd2.log" &&
	ok "confd logged: event package requires TLS" || fail "no TLS log line"
r=$(sip tls "$T2PORT" "sip:focus1.conf1@127.0.0.1:$T2PORT;transport=tls" "sip:alice@$REALM")
[[ $r == "SIP/2.0 404"* ]] && ok "over TLS the gate passes (no conference: $r)" ||
	fail "TLS SUBSCRIBE: $r"

# ---- participants -------------------------------------------------------------
ua() { # name duration args...: stdin from a FIFO kept open
	local n=$1 d=$2
	shift 2
	mkfifo "$W/$n.in"
	timeout 70 "$CONCLAVE" ua --cred "$W/creds/${n%2}.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration "$d" \
		--grace 1000 "$@" <"$W/$n.in" >"$W/$n.out" 2>&1 &
	env_bg $!
	eval "PID_$n=$!"
	exec {fd}>"$W/$n.in"
	eval "FD_$n=$fd"
}
say() { # name command
	local fd
	eval "fd=\$FD_$1"
	echo "$2" >&"$fd"
}

ua alice 60 --sip-listen "127.0.0.1:$APORT" --focus-out "$W/focus" create \
	--factory "$FACTORY" --allow "sip:bob@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob 60 join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
waitfor "$W/confd.log" "SWITCH_MKI epoch 2" 50 || fail "no rekey after Bob"

roster() { # name: the last roster block's member lines
	awk '/roster v[0-9]+:/{b=""} /roster:   /{b=b $0 "\n"} END{printf "%s", b}' \
		"$W/$1.out"
}
has() { # name pattern tenths: wait until the last roster has pattern
	local _
	for _ in $(seq 1 "$3"); do
		roster "$1" | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

say alice watch
waitfor "$W/alice.out" "roster v" 50 && ok "Alice got a roster" ||
	fail "no roster for Alice"
# a member's epoch is the newest it was given, which may trail the
# conference's current epoch while a rekey is rolling out
has alice "sip:alice@$REALM connected epoch [2-9][0-9]* trust kms" 30 &&
	has alice "sip:bob@$REALM connected epoch [2-9][0-9]* trust kms" 30 &&
	ok "full roster: alice, bob connected, epoch >= 2, trust kms" ||
	fail "full roster wrong: $(roster alice)"
E1=$(grep -o "conference epoch [0-9]*" "$W/alice.out" | tail -1 | tr -dc 0-9)
grep -q "sip:alice@$REALM subscribed to the conference event package" \
	"$W/confd.log" && ok "confd logged the subscription" ||
	fail "no subscription log"
grep -q "warn: event: subscription of sip:alice@$REALM over UDP WITHOUT TLS" \
	"$W/confd.log" && ok "insecure subscription WARNed" ||
	fail "no WARN for an insecure subscription"

# ---- Carol joins, then leaves ---------------------------------------------------
sleep 0.5 # Bob's epoch switch settles
V1=$(grep -o "roster v[0-9]*" "$W/alice.out" | tail -1 | tr -dc 0-9)
ua carol 60 join "$FOCUS"
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
has alice "sip:carol@$REALM connected" 50 && ok "Carol listed connected" ||
	fail "Carol not in the roster: $(roster alice)"
V2=$(awk -v c="sip:carol@$REALM connected" '/roster v[0-9]+:/{v=$0}
	index($0, c){print v; exit}' "$W/alice.out" | grep -o "roster v[0-9]*" |
	tr -dc 0-9)
# every NOTIFY since has a higher version; a skipped version is only
# allowed in a full document (changes coalesced while a NOTIFY was in
# flight), never a gap the watcher had to re-subscribe for
VS=$(grep -o "roster v[0-9]*" "$W/alice.out" | tr -dc '0-9\n' |
	awk -v a="$V1" -v b="$V2" '$1 >= a && $1 <= b' | tr '\n' ' ')
INC=$(echo "$VS" | awk '{for (i = 2; i <= NF; i++) if ($i <= $(i-1)) {print "no"; exit}} END{print "yes"}' | head -1)
[ -n "$V2" ] && [ "$V2" -gt "$V1" ] && [ "$INC" = yes ] &&
	! grep -q "version gap" "$W/alice.out" &&
	ok "NOTIFYs with rising versions, no gap to re-subscribe for: $VS" ||
	fail "versions $V1 -> $V2: $VS"
sleep 1 # the rekey for Carol
E2=$(grep -o "conference epoch [0-9]*" "$W/alice.out" | tail -1 | tr -dc 0-9)
[ "${E2:-0}" -gt "$E1" ] && has alice "sip:carol@$REALM connected epoch $E2" 30 &&
	ok "the new epoch ($E1 -> $E2) in the roster" ||
	fail "no new epoch: $(roster alice)"
grep -q "version gap" "$W/alice.out" && fail "a version gap on the way"
say carol leave
wait "$PID_carol"
has alice "sip:carol@$REALM disconnected (departed)" 50 &&
	ok "Carol listed disconnected (departed)" ||
	fail "Carol not departed: $(roster alice)"

# ---- non-members ------------------------------------------------------------------
ua mallory 60 --sip-listen "127.0.0.1:$MLPORT" listen
waitfor "$W/mallory.out" "listening on" 50 || fail "Mallory does not listen"
say mallory "watch $FOCUS"
waitfor "$W/mallory.out" "watch: refused: 403" 50 &&
	ok "Mallory's SUBSCRIBE: 403" || fail "Mallory was not refused"
grep -q "SUBSCRIBE from sip:mallory@$REALM (UDP): 403 Forbidden: not a member" \
	"$W/confd.log" && ok "confd logged Mallory's refusal" || fail "no log"
F1="sip:focus1.conf1@127.0.0.1:$SPORT"
r=$(sip udp "$SPORT" "$F1" "sip:alice@$REALM")
[[ $r == "SIP/2.0 403"* ]] && ok "Alice's From without her dialog: $r" ||
	fail "forged From: $r"
r=$(sip udp "$SPORT" "$F1" "sip:alice@$REALM" "x1;local-tag=a;remote-tag=b")
[[ $r == "SIP/2.0 403"* ]] && ok "a wrong Target-Dialog: $r" ||
	fail "wrong Target-Dialog: $r"
grep -q "roster" "$W/mallory.out" && fail "Mallory saw a roster"

# ---- a SUBSCRIBE flood; Carol joins again meanwhile ----------------------------------
sleep 1 # the buckets refill
sip flood "$SPORT" "$F1" "sip:mallory@$REALM" 200 1 >"$W/flood.txt" &
FL=$!
ua carol2 60 join "$FOCUS"
wait $FL
read -r _ sent _ answered _ n429 _ nra _ other <"$W/flood.txt"
echo "flood: $(cat "$W/flood.txt")"
[ "${n429:-0}" -ge 150 ] && [ "$nra" = "$n429" ] &&
	ok "flood: $n429 of $sent answered 429 with Retry-After" ||
	fail "flood: $(cat "$W/flood.txt")"
grep -q "warn: event: SUBSCRIBE flood from 127.0.0.1" "$W/confd.log" &&
	ok "flood logged" || fail "flood not logged"
[ "$(grep -c "SUBSCRIBE flood" "$W/confd.log")" -le 5 ] &&
	ok "flood log lines rate-limited" || fail "too many flood log lines"
waitfor "$W/carol2.out" "joined" 50 && ok "a join during the flood works" ||
	fail "Carol could not join during the flood"
has alice "sip:carol@$REALM connected" 50 &&
	ok "Alice's watch still gets NOTIFYs" || fail "watch stalled"
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$W/metrics.txt"
grep -q "^confd_event_subscriptions_active 1" "$W/metrics.txt" &&
	grep -Eq "^confd_event_subscribes_refused_total [0-9]{3}" "$W/metrics.txt" &&
	ok "metrics: subscriptions and refusals" ||
	fail "metrics: $(grep event "$W/metrics.txt")"

# ---- forged NOTIFYs to Alice's ua ---------------------------------------------------
read -r CID LT RT < <(sed -n 's/.*watch: subscription dialog call-id \([^ ]*\) local-tag \([^ ]*\) remote-tag \([^ ]*\).*/\1 \2 \3/p' \
	"$W/alice.out" | tail -1)
r=$(sip notify "$APORT" "${CID:-x}" "${LT:-x}" "${RT:-x}" '<conference-info version="99"><users><user entity="sip:evil@x" state="full"></users>')
[[ $r == "SIP/2.0 200"* ]] && ok "forged NOTIFY in the dialog: $r" ||
	fail "forged NOTIFY: $r"
waitfor "$W/alice.out" "roster: unparsable NOTIFY: " 30 &&
	ok "Alice reports the parse failure" || fail "no parse failure"
r=$(sip notify "$APORT" "nodialog" "a" "b" '<x/>')
[[ $r == "SIP/2.0 481"* ]] && ok "forged NOTIFY outside the dialog: $r" ||
	fail "out-of-dialog NOTIFY: $r"
kill -0 "$PID_alice" && ok "Alice's ua keeps running" || fail "Alice died"
grep -q "evil" "$W/alice.out" && fail "the forged roster was applied"

# ---- the end: confd shuts down ------------------------------------------------------
# (the forged CSeq spoilt the old dialog's sequence: watch afresh first)
say alice watch
waitfor "$W/alice.out" "SUBSCRIBE.*for our dialog" 30 || fail "no re-watch"
sleep 0.5
[ "$(grep -c "watch: subscription dialog" "$W/alice.out")" = 2 ] &&
	ok "Alice watches again (a new subscription)" || fail "no new subscription"
say bob leave
say carol2 leave
kill -TERM "$CPID"
waitfor "$W/alice.out" "roster: conference ended" 50 &&
	ok "Alice: conference ended (state=deleted)" || fail "no end of roster"
waitfor "$W/alice.out" "subscription terminated (noresource)" 50 &&
	ok "Alice: subscription terminated" || fail "no terminated NOTIFY"
trap '' PIPE # a ua that got the BYE has closed its stdin
for n in alice bob carol2 mallory; do
	eval "p=\$PID_$n"
	kill -0 "$p" 2>/dev/null && say $n leave 2>/dev/null
	wait "$p"
done

if cat "$W"/*.out "$W"/confd*.log | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
fi
[ "$FAIL" = 0 ] && { echo "all event package checks passed"; exit 0; }
for n in alice mallory carol2; do
	echo "--- $n.out"
	tail -n 25 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
