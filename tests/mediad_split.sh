#!/bin/bash
# mediad_split.sh -- the split media plane (issue 7 §3, DESIGN.md D10):
# conclave-confd configured with `media remote` drives two
# conclave-mediad nodes over a mutual-TLS control channel, with the real
# conclave-kmsd and three `conclave ua` members (the demo's scenario):
# Alice creates, Bob joins, Carol joins -> rekey, Carol leaves -> rekey.
# Checks: everyone hears everyone with failed == 0, the SDP names
# mediad's RTP address (127.0.0.2, not confd's 127.0.0.1), the second
# conference goes to the second node (round-robin), a mediad whose
# certificate comes from another CA is refused by confd, mediad refuses a
# client without a certificate, with one from another CA, and a plaintext
# client (the channel is TLS: no answer to a plaintext frame), malformed
# MIX/CODEC/SDES/EPOCH/SSRC_SET/SSRC_DEL frames and unknown operations from an authenticated
# client get an error answer and a log line and change nothing, no key-like
# hex in either log, SIGTERM stops mediad cleanly; kill -9 of a mediad
# ends the conference on it (its member gets a BYE, confd says why), the
# conference on the other node carries on, and a new one goes there.
#
# usage: mediad_split.sh <conclave-binary> <build>/tests
# exit 77 (skip) if a binary or openssl is missing.
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=mediad
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
MEDIAD=$BUILD/conclave-mediad
env_need "$CONCLAVE" "$KMSD" "$CONFD" "$MEDIAD"
command -v openssl >/dev/null || {
	echo "skip: need openssl"
	exit 77
}
"$CONCLAVE" ua --help >/dev/null 2>&1 || {
	echo "skip: conclave has no ua command"
	exit 77
}

# ---- certificates: a CA for the media plane, and a stranger CA ----------------------
{ env_ca media-ca && env_ca stranger-ca && env_leaf mediad1 media-ca &&
	env_leaf mediad2 media-ca && env_leaf confd media-ca &&
	env_leaf mediad-x stranger-ca && env_leaf confd-x stranger-ca; } ||
	fail "openssl: certificates"

# ---- the daemons: kmsd, two mediad nodes, confd with `media remote` -----------------
env_store alice bob carol
KPORT=$(port)
SPORT=$(port)
M1=$(port)
M2=$(port)
MX=$(port)
env_creds "$KPORT" alice bob carol
env_kmsd "$KPORT" || exit 1

mediad() { # name port rtp-ip cert
	"$MEDIAD" --listen "127.0.0.1:$2" --rtp "$3" --cert "$W/$4.pem" \
		--ca "$W/media-ca.crt" --log-level debug >"$W/$1.log" 2>&1 &
	eval "PID_$1=$!"
	env_bg $!
	waitfor "$W/$1.log" "listening control TLS" 50 ||
		fail "$1 did not come up: $(cat "$W/$1.log")"
}
"$MEDIAD" --help | grep -q 'usage: conclave-mediad' && ok "mediad --help" ||
	fail "mediad --help"
mediad mediad1 "$M1" 127.0.0.2 mediad1
mediad mediad2 "$M2" 127.0.0.3 mediad2
mediad mediadx "$MX" 127.0.0.4 mediad-x

# ---- mediad refuses plaintext and clients without a valid certificate --------------
python3 - "$W" "$M1" <<'EOP' || FAIL=1
import socket, ssl, struct, sys
w, port = sys.argv[1], int(sys.argv[2])
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
CREATE = struct.pack(">IBBHI", 8, 1, 0, 0, 0)
def plain():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(CREATE)
    try:
        got = s.recv(64)
    except (ConnectionResetError, socket.timeout):
        got = b""
    s.close()
    # no answer frame: EOF, or a TLS alert record (0x15)
    return got
def tls(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(f"{w}/media-ca.crt")
    if cert:
        ctx.load_cert_chain(f"{w}/{cert}.pem")
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                     timeout=5),
                            server_hostname="127.0.0.1")
        s.sendall(CREATE)
        got = s.recv(64)
        s.close()
        return got
    except (ssl.SSLError, OSError) as e:
        return repr(e)
g = plain()
check(not g.startswith(struct.pack(">I", 27)), f"plaintext CREATE gets no answer ({g[:8]!r})")
g = tls(None)
check(not isinstance(g, bytes) or len(g) < 12, f"TLS client without a certificate refused ({g!r:.80})")
g = tls("confd-x")
check(not isinstance(g, bytes) or len(g) < 12, f"TLS client with another CA's certificate refused ({g!r:.80})")
g = tls("confd")
check(isinstance(g, bytes) and len(g) >= 12 and g[4] == 1 and g[5] == 0,
      f"TLS client with confd's certificate: CREATE answered ({len(g) if isinstance(g, bytes) else g})")
# hostile frames from an authenticated client: each gets an error answer
# (status = an errno, a short reason), mediad logs why, nothing changes
# (the conference keeps answering) and the connection keeps serving
def frame(op, conf, pl=b""):
    return struct.pack(">IBBHI", 8 + len(pl), op, 0, 0, conf) + pl
def recv_frame(s):
    h = b""
    while len(h) < 12:
        h += s.recv(12 - len(h))
    n = struct.unpack(">I", h[:4])[0] - 8
    pl = b""
    while len(pl) < n:
        pl += s.recv(n - len(pl))
    return h[4], h[5], struct.unpack(">I", h[8:12])[0], pl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(f"{w}/media-ca.crt")
ctx.load_cert_chain(f"{w}/confd.pem")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                    server_hostname="127.0.0.1")
s.sendall(frame(1, 0))
op, st, cid, _ = recv_frame(s)
check(op == 1 and st == 0, f"hostile client: conference {cid} created")
M = struct.pack(">Q", 7)
s.sendall(frame(11, cid, struct.pack(">BBB", 1, 1, 4) + bytes(range(1, 17))))
op, st, _, txt = recv_frame(s)
check(op == 11 and st == 0, f"hostile client: a mixing conference ({txt!r})")
HOSTILE = [
    ("MIX, a second mixer", 11, struct.pack(">BBB", 1, 1, 4) + bytes(range(1, 17))),
    ("MIX, 2 SSRCs for 4 speakers", 11, struct.pack(">BBB", 1, 4, 2) + b"\0" * 8),
    ("MIX, 9 speakers", 11, struct.pack(">BBB", 1, 9, 12) + b"\0" * 48),
    ("CODEC, truncated", 12, M),
    ("CODEC, no such member", 12, M + b"\x01"),
    ("SDES, no keys", 13, M + b"\0" + b"\0" * 4 + b"\0"),
    ("SDES, key longer than the frame", 13, M + b"\0" * 5 + b"\x01\x1e" + b"k" * 10),
    ("SDES, trailing bytes", 13, M + b"\0" * 5 + b"\x01\x1e" + b"k" * 30 + b"\0" + b"\0" * 8 + b"x"),
    ("SDES, no such member", 13, M + b"\0" * 5 + b"\x01\x1e" + b"k" * 30 + b"\0" + b"\0" * 8),
    ("EPOCH, wrong key length", 6, b"\0" * 8 + b"\x01\x05" + b"k" * 5 + b"\x0e" + b"s" * 14),
    ("SSRC_SET, length mismatch", 14, struct.pack(">H", 2) + b"\0" * 16),
    ("SSRC_SET, an SSRC twice", 14, struct.pack(">H", 2) + (struct.pack(">IIQ", 5, 0, 9)) * 2),
    ("SSRC_DEL, no SSRC", 15, struct.pack(">H", 0)),
    ("SSRC_DEL, length mismatch", 15, struct.pack(">H", 3) + b"\0" * 8),
    ("unknown operation 77", 77, b""),
]
for what, op, pl in HOSTILE:
    s.sendall(frame(op, cid, pl))
    rop, st, rcid, txt = recv_frame(s)
    check(rop == op and st != 0 and txt and b"k" * 5 not in txt,
          f"hostile {what}: error {st} ({txt.decode(errors='replace')})")
s.sendall(frame(11, 999, struct.pack(">BBB", 1, 1, 4) + b"\0" * 16))
rop, st, _, txt = recv_frame(s)
check(st != 0, f"hostile MIX for another conference: error {st} ({txt.decode()})")
s.sendall(frame(9, cid))
rop, st, _, pl = recv_frame(s)
check(rop == 9 and st == 0 and pl == b"\0" * 16,
      "after the hostile frames: the conference answers, nothing forwarded")
s.close()
sys.exit(1 if bad else 0)
EOP
for r in "bad mix" "mixer not started" "bad codec" "codec not set" "bad SDES keys" "no such member" \
	"bad SSRC update" "SSRC named twice" "bad SSRC removal" \
	"bad epoch" "unknown operation" "no such conference"; do
	grep -q "control .*: op [0-9]* conference [0-9]*: $r" "$W/mediad1.log" ||
		fail "mediad logged no '$r'"
done
grep -q "refused: TLS handshake failed (no valid client certificate" "$W/mediad1.log" &&
	ok "mediad logs the refused clients" || fail "no refusal in mediad1.log"
grep -q "TLS handshake done (.*), client certificate verified: CN=confd" \
	"$W/mediad1.log" && ok "mediad logs the verified TLS handshake" ||
	fail "no verified handshake in mediad1.log"

# ---- confd with the remote media plane (two nodes, round-robin) -----------------------
env_confd "$SPORT" "idle_timeout 2" "log_level debug" \
	"policy rekey-on=join,leave" "policy min-rekey-interval=1s" \
	"policy grace=2000" "policy ack-deadline=3000" \
	"media remote 127.0.0.1:$M1,127.0.0.1:$M2" \
	"media_cert $W/confd.pem" "media_ca $W/media-ca.crt" || exit 1

env_ua alice 45 --focus-out "$W/focus" create --factory "$FACTORY" \
	--allow "sip:bob@$REALM,sip:carol@$REALM"
waitfor "$W/alice.out" "joined" 50 || {
	fail "Alice did not join"
	cat "$W/alice.out" "$W/confd.log"
	exit 1
}
FOCUS=$(cat "$W/focus")
ok "create: focus $FOCUS"
RTP=$(sed -n 's/.*media to \([0-9.]*:[0-9]*\).*/\1/p' "$W/alice.out" | head -1)
case "$RTP" in
127.0.0.2:*) ok "the SDP answer names mediad's RTP address ($RTP)" ;;
*) fail "SDP media address '$RTP' is not mediad1's 127.0.0.2" ;;
esac
grep -q "conference m[0-9]*: created for .*, RTP $RTP\$" "$W/mediad1.log" &&
	ok "mediad1 opened that RTP port" || fail "mediad1 did not open $RTP"

env_ua bob 45 join "$FOCUS"
waitfor "$W/bob.out" "joined" 50 || fail "Bob did not join"
sleep 2
env_ua carol 30 join "$FOCUS"
waitfor "$W/carol.out" "joined" 50 || fail "Carol did not join"
waitfor "$W/carol.out" "rekey answered" 80 && ok "rekey after Carol's join" ||
	fail "no rekey after Carol's join"
sleep 3
env_say carol leave
wait "$PID_carol" || fail "carol exited $?"
sleep 2.5

# a second conference: the next node (round-robin)
timeout 20 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
	--server "127.0.0.1:$SPORT" --skew $SKEW --duration 1 \
	create --factory "$FACTORY" </dev/null >"$W/alice2.out" 2>&1 ||
	fail "second conference: exit $?"
grep -q "media to 127.0.0.3:" "$W/alice2.out" &&
	grep -q "conference m1: created" "$W/mediad2.log" &&
	ok "second conference on the second mediad (127.0.0.3)" ||
	fail "second conference not on mediad2"

# ---- a media node fails: its conferences end with a BYE, the others go on ------------
# round-robin: a third conference goes to mediad1, a fourth to mediad2
mkconf() { # name duration
	timeout 40 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
		--server "127.0.0.1:$SPORT" --skew $SKEW --duration "$2" \
		create --factory "$FACTORY" </dev/null >"$W/$1.out" 2>&1
}
mkconf alice3 1 || fail "third conference: exit $?"
mkconf alice4 30 &
A4=$!
env_bg $A4
waitfor "$W/alice4.out" "joined" 50 || fail "fourth conference: no join"
grep -q "media to 127.0.0.3:" "$W/alice4.out" &&
	ok "fourth conference on mediad2" || fail "fourth conference not on mediad2"
kill -9 "$PID_mediad2"
waitfor "$W/alice4.out" "bye received" 50 &&
	ok "mediad2 killed: its conference's member got a BYE" ||
	fail "no BYE after mediad2 died"
wait $A4 && ok "that member ended cleanly (exit 0)" || fail "alice4 exit $?"
grep -q "conference .*: media node lost, ending the conference" "$W/confd.log" &&
	ok "confd logged why it ended the conference" ||
	fail "no 'media node lost' in confd.log"
kill -0 "$PID_alice" 2>/dev/null && kill -0 "$PID_bob" 2>/dev/null &&
	ok "the conference on mediad1 carries on" ||
	fail "the conference on mediad1 ended"
mkconf alice5 1 || fail "fifth conference: exit $?"
grep -q "media to 127.0.0.2:" "$W/alice5.out" &&
	ok "a new conference goes to the remaining mediad1" ||
	fail "fifth conference not on mediad1"

"$CONCLAVE" ua leave --pid "$PID_bob" || fail "ua leave --pid bob"
wait "$PID_bob" || fail "bob exited $?"
kill -TERM "$PID_alice"
wait "$PID_alice" || fail "alice exited $?"

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
tone = {n: r["tone_hz"] for n, r in R.items()}
for n, r in R.items():
    rx = r["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{n}: decrypted {rx['decrypted']} > 0, failed {rx['failed']} == 0")
    check(not heard(r, tone[n]), f"{n} did not hear its own tone")
for a in R:
    for b in R:
        if a != b:
            check(heard(R[a], tone[b]), f"{a} heard {b} ({tone[b]:.0f} Hz)")
# the rekey of Carol's join: all three held it and heard under it
new = max(e["mki"] for e in R["carol"]["epochs"])
for n, r in R.items():
    check(new in [e["mki"] for e in r["epochs"]], f"{n} held epoch {new}")
# the rekey of Carol's leave: Alice and Bob got an epoch Carol never held
# (Bob's last; Bob's own leave made one more, for Alice alone)
last = max(e["mki"] for e in R["bob"]["epochs"])
check(last > new and last in [e["mki"] for e in R["alice"]["epochs"]],
      f"leave rekey: alice and bob on {last} > {new}")
check(last not in [e["mki"] for e in R["carol"]["epochs"]],
      f"carol never held {last}")
got = {m["mki"]: m["decrypted"] for m in R["bob"]["per_mki"]}
check(got.get(last, 0) > 0, f"bob decrypted under {last} ({got.get(last, 0)})")
sys.exit(1 if bad else 0)
EOP

grep -q "epoch [0-9]* (MKI 0x[0-9a-f]*) installed" "$W/mediad1.log" &&
	ok "mediad1 installed epochs ($(grep -c ') installed' "$W/mediad1.log"))" ||
	fail "no epoch installed on mediad1"
grep -q "retire MKI" "$W/mediad1.log" && ok "mediad1 retired an epoch" ||
	fail "no retire on mediad1"

# ---- a mediad with a certificate from another CA: refused by confd -------------------
XPORT=$(port)
{
	echo "udp 127.0.0.1:$XPORT"
	echo "tcp 127.0.0.1:$XPORT"
	echo "factory $FACTORY"
	echo "credential $W/creds/confd.cred"
	echo "skew $SKEW"
	echo "media remote 127.0.0.1:$MX"
	echo "media_cert $W/confd.pem"
	echo "media_ca $W/media-ca.crt"
} >"$W/confdx.conf"
"$CONFD" --config "$W/confdx.conf" >"$W/confdx.log" 2>&1 &
XPID=$!
env_bg $XPID
waitfor "$W/confdx.log" "listening sip TCP" 100 || fail "confd-x did not start"
timeout 20 "$CONCLAVE" ua --cred "$W/creds/alice.cred" \
	--server "127.0.0.1:$XPORT" --skew $SKEW --duration 1 \
	create --factory "$FACTORY" </dev/null >"$W/alicex.out" 2>&1
rc=$?
[ $rc != 0 ] && ok "no conference on a mediad from another CA (ua exit $rc)" ||
	fail "a conference was created on the stranger mediad"
grep -Eq "TLS handshake refused: (unable to get local issuer|certificate verify)" \
	"$W/confdx.log" &&
	ok "confd refused the stranger mediad's certificate" ||
	fail "no certificate refusal in confdx.log"
grep -q "conference m1: created" "$W/mediadx.log" &&
	fail "the stranger mediad got a conference" ||
	ok "the stranger mediad got nothing"
kill -TERM $XPID && wait $XPID

# ---- logs, shutdown -----------------------------------------------------------------
kill -TERM "$CPID"
wait "$CPID"
CPID=
grep -q "control .*: closed" "$W/mediad1.log" &&
	ok "mediad1 saw confd's connection close" || fail "no close in mediad1"
kill -TERM "$PID_mediad1"
wait "$PID_mediad1" && ok "mediad SIGTERM: exit 0" || fail "mediad exit $?"
grep -q "stopped" "$W/mediad1.log" || fail "mediad1 did not log its stop"
for f in mediad1 mediad2 mediadx confd confdx; do
	if grep -Eqi 'psk *=|[0-9a-f]{32}' "$W/$f.log"; then
		fail "$f.log holds something key-like"
	else
		ok "no key material in $f.log"
	fi
done
if cat "$W"/*.out | grep -Eqi '[0-9a-f]{32}'; then
	fail "participant output holds something key-like"
fi
kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
KPID=
if [ "$FAIL" = 0 ]; then
	echo "all mediad split checks passed"
	exit 0
fi
for f in alice.out bob.out carol.out confd.log mediad1.log; do
	echo "--- $f"
	tail -n 40 "$W/$f"
done
exit 1
