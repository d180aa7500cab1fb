#!/bin/bash
# confd_sdes.sh -- SDES members in a group-key conference (issue 6 §5, §6;
# seed 002 §5.3.1, the SDES-based solution;
# DESIGN.md D8; docs/INTEROP.md "baresip"), with the real conclave-kmsd,
# conclave-confd, `conclave ua` and baresip 1.0.0 on loopback:
#
#   - Alice (`conclave ua`, KMS, 600 Hz) creates the conference allowing
#     sip:bob@example.org; Bob is baresip (ausine 1000 Hz, srtp-mand,
#     AOR sip:bob@example.org, no MKI) and dials the focus over SIP/TLS
#     with an a=crypto offer; confd (sdes_allow sip:bob@example.org)
#     answers with the group key without MKI and logs "trust sdes";
#   - baresip's recorded audio holds Alice's tone (the copies it gets
#     have the group MKI cut out), Alice's report has Bob's source with
#     its peak at 1000 Hz and no failed packet (decrypted under Bob's key,
#     re-protected once under the group key);
#   - SDES offers over TLS with a malformed a=crypto (unknown suite, bad
#     base64, wrong key length, bad lifetime, bad MKI) get 488 with a
#     Warning naming the reason; a good offer over UDP gets 488 "need SIP
#     over TLS"; an identity not in sdes_allow gets 403;
#   - no key material (32+ hex digits, 40-char base64) in confd's log or
#     Alice's output.
#
# With CONCLAVE_TEST_MEDIA=remote (ctest's confd_sdes_remote), the media
# plane is a conclave-mediad driven over mutual TLS (issue 7 §3): Bob's
# keys go to it on the control channel and it re-protects his packets.
#
# usage: confd_sdes.sh <conclave-binary> <build>/tests
# exit 77 (skip) if baresip, openssl or a binary is missing.
set -u
CONCLAVE=$1
TESTS=$2
ENV_TAG=sdesit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
# shellcheck source=lib/baresip.sh disable=SC1091
. "$(dirname "$0")/lib/baresip.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
bs_need
command -v openssl >/dev/null || {
	echo "skip: need openssl"
	exit 77
}
trap 'bs_cleanup; env_cleanup' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$W/c.key" -out "$W/c.crt" >/dev/null 2>&1 &&
	cat "$W/c.crt" "$W/c.key" >"$W/confd.pem" || fail "openssl"

env_store alice bob
KPORT=$(port)
SPORT=$(port)
TPORT=$(port)
env_creds "$KPORT" alice bob
env_kmsd "$KPORT" || exit 1
env_media "$W"
env_confd "$SPORT" "idle_timeout 5" "log_level debug" "${MEDIA_LINES[@]}" \
	"tls 127.0.0.1:$TPORT" "tls_cert $W/confd.pem" \
	"sdes_allow sip:bob@$REALM" "policy rekey-on=leave" \
	"policy min-rekey-interval=200" "event_insecure yes" || exit 1
waitfor "$W/confd.log" "listening sip TLS" 50 || fail "no TLS listener"
grep -q "SDES (a=crypto) members allowed: sip:bob@$REALM" "$W/confd.log" &&
	ok "confd names the SDES identities at start" ||
	fail "no SDES start line"

env_ua alice 12 --tone 600 --focus-out "$W/focus" \
	create --factory "$FACTORY" --allow "sip:bob@$REALM"
APID=$PID_alice
waitfor "$W/alice.out" "joined" 50 || fail "Alice did not join"
FOCUS=$(cat "$W/focus" 2>/dev/null)
FUSER=${FOCUS#sip:}
FUSER=${FUSER%@*}

# ---- baresip joins by SDES over TLS -------------------------------------------
BP=$(bs_ports)
bs_config bob "$BP" source=ausine,1000 host=$REALM || fail "bs_config"
bs_start bob || exit 1
if bs_dial bob "sip:$FUSER@127.0.0.1:$TPORT;transport=tls"; then
	ok "baresip joined over SIP/TLS with SDES"
	# the roster states each member's trust model (issue 6 §5)
	env_say alice watch
	waitfor "$W/alice.out" "roster:   sip:bob@$REALM connected.*trust sdes" 50 &&
		ok "roster: Bob listed with trust sdes" ||
		fail "roster does not show Bob's trust sdes"
	grep -q "roster:   sip:alice@$REALM connected.*trust kms" "$W/alice.out" &&
		ok "roster: Alice listed with trust kms" ||
		fail "roster does not show Alice's trust kms"
	sleep 4
	bs_hangup bob
fi
waitfor "$W/confd.log" "sip:bob@$REALM accepted, trust sdes" 10 &&
	ok "confd: Bob accepted with trust sdes" || fail "no 'trust sdes'"
grep -q "sip:bob@$REALM accepted, trust sdes, group key epoch [0-9]* in a=crypto without MKI" \
	"$W/confd.log" && ok "answer without MKI (baresip's offer had none)" ||
	fail "answer MKI choice not logged"
grep -q "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" "$(bs_log bob)" ||
	fail "no a=crypto in baresip's SIP trace"
grep -q "srtp: failed to decrypt" "$(bs_log bob)" &&
	echo "note: $(grep -c 'srtp: failed to decrypt' "$(bs_log bob)") packets failed at baresip"
wait $APID || fail "Alice exited $?"
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
heard = heard and r["received"]["failed"] == 0
print(("ok " if heard else "FAIL: ") + "Alice heard baresip's 1000 Hz (peak) "
      "(decrypted %d, failed %d)" % (r["received"]["decrypted"],
                                     r["received"]["failed"]))
sys.exit(0 if heard else 1)
EOP

# ---- refused SDES offers: 488 with the reason, 403 by identity ----------------
python3 - "$TPORT" "$SPORT" "$FUSER" "$REALM" <<'EOP' || FAIL=1
import base64, os, random, socket, ssl, sys
tport, uport, fuser, realm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
key = base64.b64encode(os.urandom(30)).decode()

def invite(crypto, tp="tls", user="bob"):
    cid = "%x@sdes" % random.getrandbits(64)
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\nm=audio 40000 RTP/SAVP 0\r\na=ssrc:1234 cname:x\r\n"
           "a=crypto:%s\r\n" % crypto)
    port = tport if tp == "tls" else uport
    via = "SIP/2.0/%s 127.0.0.1:5999;branch=z9hG4bK%x;rport" % (
        tp.upper(), random.getrandbits(48))
    msg = ("INVITE sip:%s@127.0.0.1:%d;transport=%s SIP/2.0\r\nVia: %s\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%x\r\n"
           "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:%s@127.0.0.1:5999>\r\nContent-Type: application/sdp\r\n"
           "Content-Length: %d\r\n\r\n%s" % (
               fuser, port, tp, via, user, realm, random.getrandbits(32),
               fuser, realm, cid, user, len(sdp), sdp)).encode()
    if tp == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 5))
        s.sendall(msg)
        recv = lambda: s.recv(65536)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(msg, ("127.0.0.1", port))
        recv = lambda: s.recvfrom(65536)[0]
    buf = b""
    while True:  # skip 100/183, stop at a final response
        try:
            d = recv()
        except socket.timeout:
            break
        if not d:
            break
        buf += d
        for resp in buf.split(b"SIP/2.0 ")[1:]:
            code = int(resp[:3])
            if code >= 200:
                s.close()
                return code, resp.decode(errors="replace")
    s.close()
    return 0, buf.decode(errors="replace")

bad = 0
def expect(what, crypto, code, text, **kw):
    global bad
    c, r = invite(crypto, **kw)
    w = [l for l in r.split("\r\n") if l.lower().startswith("warning:")]
    good = c == code and any(text in l for l in w)
    print(("ok " if good else "FAIL: ") + "%s: %d %s" % (what, c, w[0] if w else "(no Warning)"))
    bad += not good

expect("unknown suite", "1 AES_CM_129_HMAC_SHA1_80 inline:" + key, 488, "unknown crypto-suite")
expect("bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key[:-4] + "!!!!", 488, "not valid base64")
expect("wrong key length", "1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(os.urandom(24)).decode(), 488, "length wrong")
expect("bad lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^x", 488, "lifetime")
expect("bad MKI", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:", 488, "MKI")
expect("UDP (no TLS)", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key, 488, "need SIP over TLS", tp="udp")
expect("identity not in sdes_allow", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key, 403, "SDES not allowed", user="alice")
sys.exit(1 if bad else 0)
EOP
for r in "unknown crypto-suite" "not valid base64" "length wrong" "need SIP over TLS"; do
	grep -q "SDES offer refused 488: .*$r" "$W/confd.log" ||
		fail "no log line for '$r'"
done
grep -q "SDES offer refused 403: SDES not allowed" "$W/confd.log" ||
	fail "no log line for the 403"

# ---- no key material in our logs ----------------------------------------------
if grep -E -e '[0-9a-fA-F]{32}' -e '[A-Za-z0-9+/]{40}' \
	"$W/confd.log" "$W/alice.out" "$W"/mediad.log 2>/dev/null; then
	fail "key-like material in confd's log or Alice's output"
else
	ok "no key material in confd's log or Alice's output"
fi
[ "$FAIL" = 0 ] || { tail -n 40 "$W/confd.log"; exit 1; }
exit 0
