#!/bin/bash
# ua_tls.sh -- `conclave ua` over SIP/TLS end to end (issue 6 §3: the
# event package travels only over TLS; D8/D9), with the real
# conclave-kmsd and conclave-confd on loopback and no test-only flag:
#
#   confd listens on TLS with a throwaway certificate; Alice creates and
#   Bob joins with --tls --ca (the focus's certificate is verified); a
#   rekey reaches both over TLS (confd's re-INVITE to their Contacts);
#   Alice's `watch` SUBSCRIBE goes over TLS and gets the roster; both hear
#   each other. A ua that trusts another CA cannot even call (nothing is
#   sent to a focus it cannot authenticate at the TLS layer).
#
# usage: ua_tls.sh <conclave-binary> <build>/tests
set -u

CONCLAVE=$1
TESTS=$2
ENV_TAG=uatlsit
# shellcheck source=lib/confenv.sh disable=SC1091
. "$(dirname "$0")/lib/confenv.sh"
env_need "$CONCLAVE" "$KMSD" "$CONFD"
command -v openssl >/dev/null || { echo "skip: need openssl"; exit 77; }

cert() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$W/$1.key" -out "$W/$1.crt" >/dev/null 2>&1 &&
		cat "$W/$1.crt" "$W/$1.key" >"$W/$1.pem"
}
cert confd || fail "openssl: certificate"
cert stranger || fail "openssl: second certificate"

env_store alice bob
KPORT=$(port)
SPORT=$(port)
TPORT=$(port)
env_creds "$KPORT" alice bob
env_kmsd "$KPORT" || exit 1
env_confd "$SPORT" "idle_timeout 2" "tls 127.0.0.1:$TPORT" \
	"tls_cert $W/confd.pem" "policy rekey-on=join,leave" \
	"policy min-rekey-interval=1s" "policy grace=2000" \
	"policy ack-deadline=3000" || exit 1
waitfor "$W/confd.log" "listening sip TLS" 50 || fail "no TLS listener"
grep -q "event_insecure" "$W/confd.log" && fail "test-only flag is on"

# over TLS: --server names the TLS port
SPORT=$TPORT
env_ua alice 50 --tls --ca "$W/confd.crt" --focus-out "$W/focus" \
	create --factory "$FACTORY" --allow "sip:bob@$REALM"
waitfor "$W/alice.out" "joined" 80 && ok "Alice created over TLS" ||
	fail "Alice did not join over TLS"
FOCUS=$(cat "$W/focus" 2>/dev/null)
env_ua bob 50 --tls --ca "$W/confd.crt" join "$FOCUS"
waitfor "$W/bob.out" "joined" 80 && ok "Bob joined over TLS" ||
	fail "Bob did not join over TLS"
waitfor "$W/alice.out" "rekey answered" 80 &&
	ok "the rekey re-INVITE reached Alice over TLS" ||
	fail "no rekey over TLS"
env_say alice watch
waitfor "$W/alice.out" "roster:   sip:bob@$REALM connected.*trust kms" 80 &&
	ok "watch over TLS: Bob in the roster (trust kms)" ||
	fail "no roster over TLS"
grep -q "subscription.*from sip:alice@$REALM" "$W/confd.log" ||
	grep -q "subscrib" "$W/confd.log" || fail "confd logged no subscription"

timeout 20 "$CONCLAVE" ua --cred "$W/creds/bob.cred" \
	--server "127.0.0.1:$TPORT" --skew $SKEW --duration 2 --timeout 5 \
	--tls --ca "$W/stranger.crt" join "$FOCUS" </dev/null \
	>"$W/stranger.out" 2>&1
rc=$?
[ $rc = 1 ] && ! grep -q "joined" "$W/stranger.out" &&
	ok "a focus certificate from another CA: no call (exit 1)" ||
	fail "call went through with the wrong CA (rc=$rc)"

sleep 2
for n in bob alice; do
	env_say $n leave
	eval "p=\$PID_$n"
	wait "$p" || fail "$n exited $?"
done
python3 - "$W" <<'EOP' || FAIL=1
import json, sys
w = sys.argv[1]
R = {n: json.load(open(f"{w}/{n}.json")) for n in ("alice", "bob")}
bad = 0
def check(c, msg):
    global bad
    print(("ok " if c else "FAIL: ") + msg)
    bad += not c
def heard(r, hz):
    return any(abs(t["hz"] - hz) < 1 for s in r["sources"] for t in s["tones"])
for a, b in (("alice", "bob"), ("bob", "alice")):
    rx = R[a]["received"]
    check(rx["decrypted"] > 0 and rx["failed"] == 0,
          f"{a}: decrypted {rx['decrypted']}, failed {rx['failed']}")
    check(heard(R[a], R[b]["tone_hz"]), f"{a} heard {b}")
sys.exit(1 if bad else 0)
EOP
[ "$FAIL" = 0 ] && { echo "all TLS checks passed"; exit 0; }
for n in alice bob stranger; do
	echo "--- $n.out"
	tail -n 15 "$W/$n.out"
done
echo "--- confd.log"
tail -n 30 "$W/confd.log"
exit 1
