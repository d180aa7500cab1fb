#!/bin/bash
# confd_owner_hostile.sh -- the owner's allowed-set update (issue 6 §1,
# DESIGN.md D3, apps/confd/owner.c) under hostile copies, at the focus
# (conclave-confd).
#
# Real conclave-kmsd, conclave-confd and `conclave ua` on loopback, in a
# network namespace of our own: Alice creates allowing Bob and Carol; both
# join; Alice types `allow sip:bob@example.org` (Carol is removed, a rekey
# follows). dumpcap captures confd's SIP; tshark gives the messages back.
# Python takes Alice's owner re-INVITE (the in-dialog INVITE from Alice
# carrying a=key-mgmt) and confd's 200 to it, then sends confd, each with
# a fresh Via branch and a CSeq above the dialog's:
#   a. the re-INVITE as is, in Alice's dialog        -> 488, Warning 306,
#                                                      log names replay
#   b. the MAC's last byte flipped (a=key-mgmt decoded, re-encoded)
#                                                    -> 488 (confd's replay
#      cache keys on the MAC's first 11 bytes: it says "replay")
#   b'. the MAC's first byte flipped: new to confd, so the KMS checks the
#      MAC                                           -> 488, Warning 306
#   c. the re-INVITE in Bob's dialog (his Call-ID and tags, from his join)
#                                                    -> 403, "not the owner"
#   d. a=key-mgmt whose data is not base64            -> 488
# Each non-2xx final answer is ACKed (same branch). After each: confd logs
# no new "replaced the allowed set", Carol still gets 403 on a new join,
# Alice and Bob still decrypt each other (decrypted grows, failed 0), and
# confd still runs. No key-like hex reaches any output (kmsd's ticket IDs
# aside).
#
# usage: confd_owner_hostile.sh <conclave-binary> <build>/tests
# exit 0 pass, 1 fail, 77 skip (no dumpcap/tshark/python3, or no
# permission to capture on lo).
set -u

CONCLAVE=$1
TESTS=$2
# shellcheck source=lib/capture.sh disable=SC1091
. "$(dirname "$0")/lib/capture.sh"
cap_need
# a network namespace of our own keeps other tests' SIP off the capture
cap_netns OWNER_HOSTILE_NETNS "$0" "$@"

ENV_TAG=ownhostile
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"

env_store alice bob carol
KPORT=$(port)
SPORT=$(port)
env_creds "$KPORT" alice bob carol

# ---- capture confd's SIP -------------------------------------------------------
cap_start "udp port $SPORT" "$W/sip.pcapng"

env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=1s" "policy grace=2000" \
	"policy ack-deadline=3000" || exit 1

env_ua alice 40 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
env_ua bob 40 join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
env_ua carol 40 join "$FOCUS"
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
# the joins' rekeys settle before the owner's re-INVITE (no 491)
waitfor "$W/confd.log" "switch signalled to 3 member" 80 ||
	fail "confd signalled no switch to the three members"
sleep 1

env_say alice "allow sip:bob@$REALM"
waitfor "$W/alice.out" "allowed-set update accepted" 50 &&
	ok "owner's re-INVITE (bob): 200" || fail "owner's update failed"
waitfor "$W/confd.log" "replaced the allowed set (1 identities)" 30 &&
	ok "confd replaced the allowed set" || fail "confd did not replace it"
waitfor "$W/confd.log" "carol@$REALM removed: disallowed" 30 &&
	ok "Carol removed (disallowed)" || fail "Carol not removed"
# the leave rekey (after the minimum interval) reaches Alice and Bob
waitfor "$W/confd.log" "switch signalled to 2 member" 60 &&
	ok "the rekey after Carol's removal reached Alice and Bob" ||
	fail "no rekey after Carol's removal"
sleep 1 # dumpcap writes what it has seen
kill -INT $CAP_PID
wait $CAP_PID
CAP_PID=
if [ "$FAIL" != 0 ]; then
	tail -n 20 "$W/alice.out" "$W/bob.out" "$W/confd.log"
	exit 1
fi

tshark -n -r "$W/sip.pcapng" -Y udp -T fields -E separator=/t \
	-e udp.srcport -e udp.dstport -e udp.payload >"$W/sip.tsv" \
	2>"$W/tshark.err" ||
	fail "tshark could not read the capture: $(cat "$W/tshark.err")"

# ---- hostile copies ------------------------------------------------------------
python3 - "$W" "$SPORT" "$CONCLAVE" "$FOCUS" "$SKEW" "$CPID" \
	>"$W/hostile.out" 2>&1 <<'EOP' || FAIL=1
import base64, json, os, re, socket, subprocess, sys, time

w, sport, conclave, focus, skew, cpid = sys.argv[1], int(sys.argv[2]), \
    sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
bad = 0


def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c


COMPACT = {b"f": b"from", b"t": b"to", b"i": b"call-id", b"v": b"via",
           b"l": b"content-length", b"c": b"content-type", b"m": b"contact"}


def parse(raw):
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    hdrs = []
    for l in lines[1:]:
        n, v = l.split(b":", 1)
        n = n.strip().lower()
        hdrs.append((COMPACT.get(n, n), v.strip()))
    return lines[0], hdrs, body


def hdr(hdrs, name):
    return next((v for n, v in hdrs if n == name), None)


def tag(v):
    m = re.search(rb";\s*tag=([^;>\s]+)", v or b"")
    return m.group(1) if m else None


def user(v):
    m = re.search(rb"sips?:([^@;>]+)@", v or b"")
    return m.group(1).decode() if m else None


msgs = []  # (to confd?, start line, headers, body, raw)
for line in open(f"{w}/sip.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or not f[2]:
        continue
    raw = bytes.fromhex(f[2].replace(":", ""))
    if b"\r\n\r\n" not in raw:
        continue
    msgs.append((int(f[1]) == sport,) + parse(raw) + (raw,))

# Alice's owner re-INVITE: in her dialog (To tag), offer with a=key-mgmt
inv = [m for m in msgs if m[0] and m[1].startswith(b"INVITE ") and
       user(hdr(m[2], b"from")) == "alice" and tag(hdr(m[2], b"to")) and
       b"a=key-mgmt:" in m[3]]
if not inv:
    print("FAIL: no owner re-INVITE from Alice in the capture")
    sys.exit(1)
_, rline, rh, rbody, _ = inv[-1]
callid = hdr(rh, b"call-id")
rcseq = int(hdr(rh, b"cseq").split()[0])
ans = [m for m in msgs if not m[0] and hdr(m[2], b"call-id") == callid and
       hdr(m[2], b"cseq") == hdr(rh, b"cseq") and
       re.match(rb"SIP/2\.0 [2-6]\d\d ", m[1])]
check(ans and ans[-1][1].startswith(b"SIP/2.0 200 ") and
      b"a=key-mgmt:" in ans[-1][3],
      f"captured Alice's owner re-INVITE (CSeq {rcseq}) and confd's answer "
      f"({ans[-1][1].decode() if ans else 'none'})")
alice_cseq = max(int(hdr(m[2], b"cseq").split()[0]) for m in msgs
                 if m[0] and not m[1].startswith(b"SIP/") and
                 hdr(m[2], b"call-id") == callid)

# Bob's dialog: confd's 2xx to his join INVITE (Call-ID, both tags, Contact)
bj = [m for m in msgs if not m[0] and m[1].startswith(b"SIP/2.0 200 ") and
      hdr(m[2], b"cseq").endswith(b"INVITE") and
      user(hdr(m[2], b"from")) == "bob" and tag(hdr(m[2], b"to"))]
if not bj:
    print("FAIL: no 200 to Bob's join in the capture")
    sys.exit(1)
bh = bj[0][2]
bob_callid = hdr(bh, b"call-id")
bob_cseq = max(int(hdr(m[2], b"cseq").split()[0]) for m in msgs
               if m[0] and not m[1].startswith(b"SIP/") and
               hdr(m[2], b"call-id") == bob_callid)
bob_target = re.search(rb"<([^>]+)>", hdr(bh, b"contact")).group(1)
check(bob_callid != callid, f"captured Bob's dialog (his CSeq {bob_cseq})")

km = re.search(rb"a=key-mgmt:mikey ([A-Za-z0-9+/=]+)", rbody)
mikey = base64.b64decode(km.group(1))
# V last: next payload 0 (last), MAC alg 1 (HMAC-SHA-1-160), 20-byte MAC
check(mikey[0] == 1 and mikey[1] == 14 and mikey[-22] == 0 and
      mikey[-21] == 1,
      f"the re-INVITE's MIKEY: {len(mikey)}-byte TRANSFER_INIT, V last "
      f"with a 20-byte MAC")

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
myport = sock.getsockname()[1]
n_sent = 0


def build(body=rbody, dialog=None, cseq=None):
    """Alice's re-INVITE with our Via (fresh branch), the given CSeq, body
    and (optionally) another dialog's Call-ID/From/To/target."""
    global n_sent
    n_sent += 1
    branch = b"z9hG4bKownhostile%dx%d" % (os.getpid(), n_sent)
    start = rline
    if dialog:
        start = b"INVITE " + dialog["target"] + b" SIP/2.0"
    out = [start]
    for n, v in rh:
        if n == b"via":
            v = b"SIP/2.0/UDP 127.0.0.1:%d;rport;branch=%s" % (myport,
                                                              branch)
        elif n == b"cseq":
            v = b"%d INVITE" % cseq
        elif n == b"content-length":
            v = b"%d" % len(body)
        elif dialog and n in (b"call-id", b"from", b"to"):
            v = dialog[n]
        out.append(n + b": " + v)
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def ack_for(req, resp):
    """The ACK of a non-2xx final answer: same branch, R-URI, Call-ID,
    From, CSeq number; the answer's To (RFC 3261 §17.1.1.3)."""
    _, qh, _ = parse(req + b"" if req.endswith(b"\r\n\r\n") else req)
    _, ph, _ = parse(resp)
    start = req.split(b"\r\n", 1)[0].replace(b"INVITE ", b"ACK ", 1)
    out = [start,
           b"Via: " + hdr(qh, b"via"),
           b"Max-Forwards: 70",
           b"From: " + hdr(qh, b"from"),
           b"To: " + hdr(ph, b"to"),
           b"Call-ID: " + hdr(qh, b"call-id"),
           b"CSeq: %s ACK" % hdr(qh, b"cseq").split()[0],
           b"Content-Length: 0"]
    return b"\r\n".join(out) + b"\r\n\r\n"


def send(req):
    """Send to confd; ACK the final answer; return (status, answer)."""
    sock.sendto(req, ("127.0.0.1", sport))
    end = time.time() + 5
    while time.time() < end:
        sock.settimeout(max(0.01, end - time.time()))
        try:
            resp, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        m = re.match(rb"SIP/2\.0 (\d{3}) ", resp)
        if not m or int(m.group(1)) < 200:
            continue
        st = int(m.group(1))
        if st < 300:  # should not be: a 2xx's ACK is a new transaction
            _, ph, _ = parse(resp)
            a = ack_for(req, resp).replace(b"branch=z9hG4bK",
                                           b"branch=z9hG4bKack", 1)
            sock.sendto(a, ("127.0.0.1", sport))
        else:
            sock.sendto(ack_for(req, resp), ("127.0.0.1", sport))
        # the ACK ends the server transaction: no retransmission (T1 =
        # 500 ms) of the answer after it
        rtx, end = 0, time.time() + 0.8
        while time.time() < end:
            sock.settimeout(max(0.01, end - time.time()))
            try:
                again, _ = sock.recvfrom(65535)
            except socket.timeout:
                break
            rtx += again.startswith(resp.split(b"\r\n", 1)[0])
        return st, resp, rtx
    return None, b"", 0


def report(name):
    """`report` on the participant's stdin; read its --report back."""
    path = f"{w}/{name}.json"
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    with open(f"{w}/{name}.in", "w") as fifo:
        fifo.write("report\n")
    for _ in range(100):
        time.sleep(0.05)
        try:
            if os.stat(path).st_mtime_ns != before:
                time.sleep(0.05)
                return json.load(open(path))
        except (OSError, ValueError):
            pass
    return json.load(open(path))


def carol_joins(n):
    p = subprocess.run([conclave, "ua", "--cred", f"{w}/creds/carol.cred",
                        "--server", f"127.0.0.1:{sport}", "--skew", skew,
                        "--duration", "2", "join", focus],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    out = p.stdout.decode(errors="replace")
    open(f"{w}/carol-{n}.out", "w").write(out)
    return p.returncode, out


conflog = f"{w}/confd.log"
replaced0 = open(conflog, errors="replace").read().count(
    "replaced the allowed set")
rep = {n: report(n) for n in ("alice", "bob")}



def with_mikey(b):
    return re.sub(rb"(a=key-mgmt:mikey )[A-Za-z0-9+/=]+",
                  lambda m: m.group(1) + base64.b64encode(bytes(b)), rbody)


flip = bytearray(mikey)
flip[-1] ^= 0x01  # the MAC's last byte
flipped = with_mikey(flip)
# the MAC's first byte: the replay cache keys on the MAC's first 11
# bytes, so this copy is new to confd and goes to the KMS, which checks
# the MAC
flip0 = bytearray(mikey)
flip0[-20] ^= 0x01
flipped0 = with_mikey(flip0)
notb64 = re.sub(rb"(a=key-mgmt:mikey )[A-Za-z0-9+/=]+",
                lambda m: m.group(1) + b"!!not*base64?!!", rbody)
bob_dialog = {"target": bob_target, b"call-id": bob_callid,
              b"from": hdr(bh, b"from"), b"to": hdr(bh, b"to")}
cases = [
    ("a. replayed as is", build(cseq=alice_cseq + 1), 488, True,
     r"allowed-set update from sip:alice@\S+: .*replay"),
    ("b. the MAC's last byte flipped", build(flipped, cseq=alice_cseq + 2), 488,
     False, r"allowed-set update from sip:alice@\S+: "),
    ("b'. the MAC's first byte flipped (to the KMS)",
     build(flipped0, cseq=alice_cseq + 3), 488, True,
     r"allowed-set update from sip:alice@\S+: "),
    ("c. in Bob's dialog", build(dialog=bob_dialog, cseq=bob_cseq + 1), 403,
     False, r"re-INVITE with a ticket from sip:bob@\S+, who is not the owner"),
    ("d. a=key-mgmt not base64", build(notb64, cseq=alice_cseq + 4), 488,
     True, r"re-INVITE from sip:alice@\S+ refused: a=key-mgmt: "),
]
for k, (name, req, want, w306, why) in enumerate(cases):
    pos = os.path.getsize(conflog)
    st, resp, rtx = send(req)
    check(st == want, f"{name}: confd answered {st} (want {want})")
    check(rtx == 0, f"{name}: ACKed, {rtx} retransmission(s) after it")
    if w306:
        check(re.search(rb"\r\nWarning: 306 ", resp) is not None,
              f"{name}: the answer carries Warning 306")
    new = ""
    for _ in range(30):
        new = open(conflog, errors="replace").read()[pos:]
        if re.search(why, new):
            break
        time.sleep(0.05)
    m = re.search(".*(" + why + ").*", new)
    check(m is not None,
          f"{name}: confd says why: {m.group(0) if m else '(nothing)'}")
    log = open(conflog, errors="replace").read()
    check(log.count("replaced the allowed set") == replaced0,
          f"{name}: the allowed set was not replaced again")
    rc, out = carol_joins(k)
    check(rc == 1 and "status 403" in out,
          f"{name}: Carol still may not join (exit {rc}, 403)")
    for n in ("alice", "bob"):
        r = report(n)
        rx0, rx1 = rep[n]["received"], r["received"]
        check(rx1["decrypted"] > rx0["decrypted"] and rx1["failed"] == 0,
              f"{name}: {n} still decrypts: {rx0['decrypted']} -> "
              f"{rx1['decrypted']}, failed {rx1['failed']}")
        rep[n] = r
    try:
        os.kill(cpid, 0)
        alive = True
    except OSError:
        alive = False
    check(alive, f"{name}: confd still runs")
sys.exit(1 if bad else 0)
EOP
cat "$W/hostile.out"

grep -Eq "ERROR|AddressSanitizer|Segmentation" "$W/confd.log" &&
	fail "confd logged an error"
kill -0 "$CPID" 2>/dev/null && ok "confd still runs" || fail "confd died"

# (kmsd logs ticket IDs, 128-bit public identifiers: left out)
if cat "$W"/*.out "$W/confd.log" "$W/dumpcap.log" <(sed \
	's/ticket=[0-9a-f]*//' "$W/kmsd.log") | grep -Eqi '[0-9a-f]{32}'; then
	fail "output holds something key-like"
else
	ok "no key-like hex in any output"
fi
[ "$FAIL" = 0 ] && { echo "all hostile owner re-INVITE checks passed"; exit 0; }
for n in alice bob carol; do
	echo "--- $n.out"
	tail -n 15 "$W/$n.out"
done
echo "--- confd.log"
tail -n 40 "$W/confd.log"
exit 1
