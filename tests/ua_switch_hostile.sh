#!/bin/bash
# ua_switch_hostile.sh -- the D7 switch INFO (DESIGN.md D7, docs/UA.md
# "Rekey") under hostile copies, at the participant (`conclave ua`).
#
# Real conclave-kmsd and conclave-confd on loopback; Alice creates, Bob
# joins, the join's rekey puts a new epoch in force and confd sends each
# member an INFO (Info-Package mikey-switch, application/mikey body = a
# map-only MIKEY CSB update). dumpcap captures confd's SIP; tshark pulls
# out the INFO sent to Bob (its bytes, and Bob's SIP port as its UDP
# destination). Python then sends Bob's ua modified copies of it, each
# with a fresh Via branch (a new transaction, answered to python) and a
# higher CSeq (libre's sipsess passes it to the INFO handler):
#   a. the INFO as is (same MIKEY body, same T)    -> 400, "replay"
#   b. one byte of the V payload's MAC flipped      -> 400, "bad MAC"
#   c. Info-Package: other                          -> 469
#   d. no body / Content-Type text/plain            -> 415
#   e. the MIKEY body truncated (two lengths)       -> 400, truncated/malformed
#   f. the body of Alice's switch INFO (valid, her CSB) -> 400, "CSB ID"
# For each: the SIP status python receives, the ua's log line naming why,
# and no state change (Bob's sending MKI and epochs, from his --report
# after SIGUSR1, as before). Afterwards Alice and Bob still decrypt each
# other (decrypted grows, failed == 0, unknown MKI == 0), and no key-like
# hex reaches any output.
#
# usage: ua_switch_hostile.sh <conclave-binary> <build>/tests
# exit 0 pass, 1 fail, 77 skip (no dumpcap/tshark/python3, or no
# permission to capture on lo).
set -u

CONCLAVE=$1
TESTS=$2
# shellcheck source=lib/capture.sh disable=SC1091
. "$(dirname "$0")/lib/capture.sh"
cap_need
# a network namespace of our own keeps other tests' SIP off the capture
cap_netns UA_HOSTILE_NETNS "$0" "$@"

ENV_TAG=uahostile
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob

# ---- capture confd's SIP -------------------------------------------------------
cap_start "udp port $SPORT" "$W/sip.pcapng"

env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "log_level debug" \
	"policy rekey-on=join,leave" "policy min-rekey-interval=1s" \
	"policy grace=2000" "policy ack-deadline=3000" || exit 1

# No `timeout` wrapper: SIGUSR1 (status + report) goes to the ua itself;
# --duration bounds it, the cleanup kills it.
ua() { # name args...: a participant in the background, $PID_<name>
	local n=$1
	shift
	"$CONCLAVE" ua --cred "$W/creds/$n.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration 35 \
		--report "$W/$n.json" --grace 2000 "$@" </dev/null \
		>"$W/$n.out" 2>&1 &
	env_bg $!
	eval "PID_$n=$!"
}

ua alice --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
ua bob join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
# the join's rekey: re-INVITE, acknowledgement, then the switch INFO
waitfor "$W/confd.log" "switch signalled to 2 member" 80 &&
	ok "confd signalled the switch to both members" ||
	fail "confd signalled no switch to both members"
# the INFO's 200 is back, and Bob retired the join's epoch (--grace 2000):
# from here on nothing in Bob's state changes unless an INFO changes it
waitfor "$W/bob.out" "retire mki" 50 || fail "Bob kept the old epoch"
kill -INT $CAP_PID
wait $CAP_PID
CAP_PID=
if [ "$FAIL" != 0 ]; then
	tail -n 20 "$W/alice.out" "$W/bob.out" "$W/confd.log"
	exit 1
fi

# ---- the INFO to Bob, from the capture ---------------------------------------------
tshark -n -r "$W/sip.pcapng" -d "udp.port==$SPORT,sip" \
	--disable-protocol mikey -Y 'sip.Method == "INFO"' -T fields \
	-E separator=/t -e udp.srcport -e udp.dstport -e sip.to.user \
	-e udp.payload >"$W/info.tsv" 2>"$W/tshark.err" ||
	fail "tshark could not read the capture: $(cat "$W/tshark.err")"

# ---- hostile copies ------------------------------------------------------------
python3 - "$W" "$SPORT" "$PID_bob" "$PID_alice" >"$W/hostile.out" \
	2>&1 <<'EOP' || FAIL=1
import json, os, re, signal, socket, sys, time

w, sport, bpid, apid = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4])
bad = 0


def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c


# the last mikey-switch INFO confd sent to Bob (and to Alice)
info, bob_port, alice_body = None, None, None
for line in open(f"{w}/info.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 4 or f[0] != sport:
        continue
    raw = bytes.fromhex(f[3].replace(":", ""))
    if b"\r\nInfo-Package: mikey-switch\r\n" not in raw:
        continue
    if f[2] == "bob":
        info, bob_port = raw, int(f[1])
    elif f[2] == "alice":
        alice_body = raw.split(b"\r\n\r\n", 1)[1]
if info is None or alice_body is None:
    print("FAIL: no mikey-switch INFO to Bob and to Alice in the capture")
    sys.exit(1)
head, body = info.split(b"\r\n\r\n", 1)
lines = head.split(b"\r\n")
cseq = next(int(l.split()[1]) for l in lines
            if l.lower().startswith(b"cseq:"))
check(len(body) > 40 and body[0] == 1 and body[1] == 14,
      f"captured the switch INFO to Bob (port {bob_port}): CSeq {cseq}, "
      f"{len(body)}-byte MIKEY TRANSFER_INIT")

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
myport = sock.getsockname()[1]
n_sent = 0


def build(pkg=b"mikey-switch", ctype=b"application/mikey", mbody=body):
    """The captured INFO with our Via (fresh branch), a higher CSeq, the
    given Info-Package, Content-Type and body, Content-Length to match."""
    global n_sent
    n_sent += 1
    out = []
    for l in lines:
        name = l.split(b":", 1)[0].strip().lower()
        if name in (b"via", b"v"):
            l = (b"Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK"
                 b"hostile%d%d" % (myport, os.getpid(), n_sent))
        elif name == b"cseq":
            l = b"CSeq: %d INFO" % (cseq + n_sent)
        elif name == b"info-package":
            if pkg is None:
                continue
            l = b"Info-Package: " + pkg
        elif name in (b"content-type", b"c"):
            if ctype is None:
                continue
            l = b"Content-Type: " + ctype
        elif name in (b"content-length", b"l"):
            l = b"Content-Length: %d" % len(mbody)
        out.append(l)
    return b"\r\n".join(out) + b"\r\n\r\n" + mbody


def status_of(resp):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def send(msg):
    """Send to Bob's SIP port, return the final status (or None)."""
    sock.sendto(msg, ("127.0.0.1", bob_port))
    end = time.time() + 3
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            resp, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        st = status_of(resp)
        if st is not None and st >= 200:
            return st
    return None


def report(pid, name):
    """SIGUSR1: the participant rewrites its --report; read it back."""
    path = f"{w}/{name}.json"
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    os.kill(pid, signal.SIGUSR1)
    for _ in range(100):
        time.sleep(0.05)
        try:
            if os.stat(path).st_mtime_ns != before:
                time.sleep(0.05)
                return json.load(open(path))
        except (OSError, ValueError):
            pass
    return json.load(open(path))


def state(r):
    return (r["sending_mki"], r["rekeys"],
            sorted((e["mki"], e["retired_ms"] is None) for e in r["epochs"]))


bob_out = f"{w}/bob.out"
r0 = report(bpid, "bob")
a0 = report(apid, "alice")
s0 = state(r0)
check(r0["sending_mki"] != "0x00000000" and
      any(e["mki"] == r0["sending_mki"] for e in r0["epochs"]),
      f"Bob sends under {r0['sending_mki']} before the hostile INFOs, "
      f"{len(r0['epochs'])} epoch(s) held")

mac = bytearray(body)
mac[-1] ^= 0x01  # V payload: next, MAC alg, MAC -- the MAC's last byte
cases = [
    ("a. replayed as is", build(), 400, r"switch INFO refused: replay"),
    ("b. one MAC byte flipped", build(mbody=bytes(mac)), 400,
     r"switch INFO refused: bad MAC"),
    ("c. Info-Package: other", build(pkg=b"other"), 469,
     r"INFO with another Info-Package: 469"),
    ("c'. no Info-Package", build(pkg=None), 469,
     r"INFO without a package: 469"),
    ("d. no body", build(mbody=b""), 415,
     r"switch INFO refused: no application/mikey body"),
    ("d'. Content-Type text/plain", build(ctype=b"text/plain"), 415,
     r"switch INFO refused: no application/mikey body"),
    ("e. MIKEY truncated in the MAC", build(mbody=body[:-7]), 400,
     r"switch INFO refused: (truncated|malformed)"),
    ("e'. MIKEY truncated in the HDR", build(mbody=body[:9]), 400,
     r"switch INFO refused: (truncated|malformed)"),
    ("f. Alice's switch update (valid, her CSB) in Bob's dialog",
     build(mbody=alice_body), 400,
     r"switch INFO refused: malformed \(HDR: CSB ID of another CSB\)"),
]
for name, msg, want, why in cases:
    pos = os.path.getsize(bob_out)
    st = send(msg)
    check(st == want, f"{name}: Bob answered {st} (want {want})")
    new = ""
    for _ in range(30):
        new = open(bob_out, errors="replace").read()[pos:]
        if re.search(why, new):
            break
        time.sleep(0.05)
    said = [l for l in new.splitlines() if "INFO" in l]
    check(re.search(why, new) is not None,
          f"{name}: Bob says why: {said[0] if said else '(nothing)'}")
    check("signalled" not in new and "switch-after" not in new,
          f"{name}: Bob did not switch")
    s = state(report(bpid, "bob"))
    check(s == s0, f"{name}: Bob's sending MKI {s[0]}, rekeys and epochs "
          f"unchanged")

# the conference still works: each keeps decrypting the other
time.sleep(1.5)
r1 = report(bpid, "bob")
a1 = report(apid, "alice")
for n, x0, x1 in (("Bob", r0, r1), ("Alice", a0, a1)):
    rx0, rx1 = x0["received"], x1["received"]
    check(rx1["decrypted"] >= rx0["decrypted"] + 40 and
          rx1["failed"] == 0 and rx1["unknown_mki"] == 0,
          f"{n} still decrypts: {rx0['decrypted']} -> {rx1['decrypted']}, "
          f"failed {rx1['failed']}, unknown MKI {rx1['unknown_mki']}")
check(state(r1) == s0, f"Bob still sends under {r1['sending_mki']}")
check(a1["sending_mki"] == r1["sending_mki"],
      f"Alice sends under the same MKI {a1['sending_mki']}")
sys.exit(1 if bad else 0)
EOP
cat "$W/hostile.out"

# ---- both leave cleanly; final reports ------------------------------------------
kill -TERM "$PID_bob" "$PID_alice" 2>/dev/null
for n in bob alice; do
	eval "p=\$PID_$n"
	wait "$p" || fail "$n exited $?"
done
python3 - "$W" <<'EOP' || FAIL=1
import json, sys
bad = 0
for n in ("alice", "bob"):
    r = json.load(open(f"{sys.argv[1]}/{n}.json"))
    rx = r["received"]
    good = rx["failed"] == 0 and rx["unknown_mki"] == 0 and \
        rx["decrypted"] > 0 and r["ended"] == "left"
    print(("ok " if good else "FAIL: ") +
          f"{n}: ended {r['ended']}, decrypted {rx['decrypted']}, "
          f"failed {rx['failed']}, unknown MKI {rx['unknown_mki']}")
    bad += not good
sys.exit(bad)
EOP

# (kmsd logs ticket IDs, 128-bit public identifiers: left out)
if cat "$W"/*.out "$W/confd.log" "$W/dumpcap.log" <(sed \
	's/ticket=[0-9a-f]*//' "$W/kmsd.log") | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
else
	ok "no key-like hex in any output"
fi
[ "$FAIL" = 0 ] && { echo "all hostile switch INFO checks passed"; exit 0; }
for n in alice bob; do
	echo "--- $n.out"
	tail -n 30 "$W/$n.out"
done
echo "--- confd.log"
grep -v DEBUG "$W/confd.log" | tail -n 30
exit 1
